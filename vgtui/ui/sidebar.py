"""The config sidebar: every ``--no-ui`` option, validated as you type, and the setups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.segment import Segment
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.strip import Strip
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Checkbox, Input, Label, SelectionList, Static
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.selection_list import Selection

from vgtui.core.config import (
    DEFAULT_SETUPS,
    RUN_OPTIONS,
    ConfigError,
    Option,
    RunConfig,
    SetupSpec,
    parse_setup,
)
from vgtui.ui.pace import Pace, parse_pace, show_pace

TEXT_OPTIONS = tuple(option for option in RUN_OPTIONS if option.kind == "text")
SWITCH_OPTIONS = tuple(option for option in RUN_OPTIONS if option.kind == "switch")
(SETUPS_OPTION,) = (option for option in RUN_OPTIONS if option.kind == "setups")
"""The sidebar shows the text options (inputs), then the switches (checkboxes), then the
setups (a selection list and a field to add one)."""


class StateCheckbox(Checkbox):
    """A checkbox whose state shows without colour: ``[X]`` when on, ``[ ]`` when off."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 - Textual's name
        return "X" if self.value else " "


class SetupList(SelectionList[str]):
    """The setups to run; a deselected setup shows an empty box, not just a dimmer one."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        segments = list(line)
        if len(segments) < 2 or segments[1].text != ToggleButton.BUTTON_INNER:
            return line
        meta = segments[1].style.meta if segments[1].style is not None else {}
        index = meta.get("option")
        if index is None or self.get_option_at_index(index).value in self.selected:
            return line
        segments[1] = Segment(" ", segments[1].style, segments[1].control)
        return Strip(segments, line.cell_length)


class ParserValidator(Validator):
    """Validate an Input with one of the core parsers; the failure says why."""

    def __init__(self, parse: Callable[[str], Any]) -> None:
        super().__init__()
        self.parse = parse

    def validate(self, value: str) -> ValidationResult:
        try:
            self.parse(value)
        except ConfigError as error:
            return self.failure(str(error))
        return self.success()


class ConfigSidebar(VerticalScroll):
    """Edits a :class:`RunConfig`, one field per option of RUN_OPTIONS; :meth:`read_config`
    returns it or raises ConfigError."""

    def __init__(
        self, config: RunConfig, train_size: int, pace: Pace | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.pace = pace or Pace()
        """Not part of the run's config: how fast to train, changeable during the run."""
        self.running_config: RunConfig | None = None
        """The config of the run under way, if any: edits that differ wait for the next run."""
        self.initial = config
        self.train_size = train_size
        self.setups: dict[str, SetupSpec] = {}
        for spec in (*config.setups, *DEFAULT_SETUPS):
            self.setups.setdefault(spec.name, spec)

    def compose(self) -> ComposeResult:
        yield Static("config", classes="sidebar-title")
        for option in TEXT_OPTIONS:
            with Horizontal(classes="field-row"):
                yield Label(option.label, classes="field-label")
                yield Input(
                    self.shown(option),
                    id=f"field-{option.key}",
                    validators=[ParserValidator(option.read)],
                    validate_on=["changed", "submitted"],
                    compact=True,
                )
            yield Static("", id=f"error-{option.key}", classes="field-error")
        with Horizontal(classes="field-row"):
            yield Label("pace (it/s)", classes="field-label")
            yield Input(show_pace(self.pace.rate), id="field-pace", compact=True)
        yield Static("", id="error-pace", classes="field-error")
        for option in SWITCH_OPTIONS:
            yield StateCheckbox(
                option.label,
                getattr(self.initial, option.key),
                id=f"field-{option.key}",
                compact=True,
            )
        yield Static(SETUPS_OPTION.label, classes="sidebar-title")
        chosen = set(self.initial.setup_names)
        yield SetupList(
            *(Selection(name, name, name in chosen) for name in self.setups),
            id="setups",
            compact=True,
        )
        with Horizontal(classes="field-row"):
            yield Input(
                placeholder="ACTIVATION-INIT",
                id="custom-setup",
                validators=[ParserValidator(parse_setup)],
                validate_on=["submitted"],
                compact=True,
            )
            yield Button("add", id="add-setup", compact=True)
        yield Static("", id="error-custom", classes="field-error")
        yield Static("", id="config-note", classes="config-note")

    def shown(self, option: Option) -> str:
        """The initial text of ``option``'s field."""
        return option.show(getattr(self.initial, option.key))

    def on_mount(self) -> None:
        for option in TEXT_OPTIONS:
            self.query_one(f"#field-{option.key}", Input).validate(self.shown(option))

    @on(Input.Changed)
    def show_reason(self, event: Input.Changed) -> None:
        """Show why a field is invalid next to it, as the user types."""
        if event.input.id == "custom-setup":
            self.show_error("#error-custom", "")
            return
        if event.input.id == "field-pace":
            self.read_pace(event.value)
            return
        key = (event.input.id or "").removeprefix("field-")
        result = event.validation_result
        reason = "" if result is None or result.is_valid else result.failure_descriptions[0]
        if key == "batch_size" and not reason:
            size = int(event.value)
            if size > self.train_size:
                reason = f"batch size must be <= {self.train_size} (training set)"
        self.show_error(f"#error-{key}", reason)
        event.input.set_class(bool(reason), "-invalid")
        self.note_edits()

    @on(SelectionList.SelectedChanged)
    @on(Checkbox.Changed)
    def choice_changed(self) -> None:
        self.note_edits()

    @on(Input.Submitted, "#custom-setup")
    @on(Button.Pressed, "#add-setup")
    def add_custom_setup(self, event: Message) -> None:
        """Add an ``ACTIVATION-INIT`` setup to the list, selected."""
        event.stop()
        field = self.query_one("#custom-setup", Input)
        try:
            spec = parse_setup(field.value)
        except ConfigError as problem:
            self.show_error("#error-custom", str(problem))
            return
        setups = self.query_one("#setups", SelectionList)
        if spec.name not in self.setups:
            self.setups[spec.name] = spec
            setups.add_option(Selection(spec.name, spec.name, True))
        else:
            setups.select(spec.name)
        field.value = ""
        self.show_error("#error-custom", "")
        self.notify(f"added setup {spec.name}")

    def read_pace(self, text: str) -> None:
        """Apply the pace field at once (also mid-run); an invalid one says why."""
        try:
            self.pace.rate = parse_pace(text)
        except ValueError as problem:
            self.show_error("#error-pace", str(problem))
            self.query_one("#field-pace", Input).set_class(True, "-invalid")
            return
        self.show_error("#error-pace", "")
        self.query_one("#field-pace", Input).set_class(False, "-invalid")

    def show_pace(self) -> None:
        """Show the pace after a key changed it."""
        field = self.query_one("#field-pace", Input)
        with field.prevent(Input.Changed):
            field.value = show_pace(self.pace.rate)
        self.show_error("#error-pace", "")
        field.set_class(False, "-invalid")

    def show_error(self, selector: str, reason: str) -> None:
        """Show ``reason`` under a field (hidden when empty)."""
        label = self.query_one(selector, Static)
        label.update(reason)
        label.display = bool(reason)

    def read_config(self) -> RunConfig:
        """The config the fields describe; raises ConfigError with the first problem."""
        values: dict[str, Any] = {}
        for option in TEXT_OPTIONS:
            values[option.key] = option.read(self.query_one(f"#field-{option.key}", Input).value)
        for option in SWITCH_OPTIONS:
            values[option.key] = self.query_one(f"#field-{option.key}", Checkbox).value
        chosen = set(self.query_one("#setups", SelectionList).selected)
        selected = [name for name in self.setups if name in chosen]  # in list order
        config = RunConfig(**values, setups=tuple(self.setups[name] for name in selected))
        return config.validate(train_size=self.train_size)

    def note_edits(self) -> None:
        """While a run goes on, say that edits wait for the next run."""
        edited = False
        if self.running_config is not None:
            try:
                edited = self.read_config() != self.running_config
            except ConfigError:
                edited = True
        self.set_note("changes apply to the next run (r)" if edited else "")

    def set_note(self, text: str) -> None:
        note = self.query_one("#config-note", Static)
        if str(note.content) != text:  # an update costs a layout pass: only on change
            note.update(text)
