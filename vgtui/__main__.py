"""Allow ``python -m vgtui``."""

from vgtui.launch import main

raise SystemExit(main())
