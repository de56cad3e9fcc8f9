"""Allow ``python -m vgtui``."""

from vgtui.cli import main

raise SystemExit(main())
