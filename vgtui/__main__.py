"""Allow ``python -m vgtui``."""

from vgtui.cli.main import main

raise SystemExit(main())
