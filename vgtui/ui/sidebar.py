"""The config sidebar: every ``--no-ui`` option, validated as you type, and the setups."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rich.segment import Segment
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.strip import Strip
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Checkbox, Input, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from vgtui.core.config import (
    DEFAULT_SETUPS,
    PRESETS,
    RUN_OPTIONS,
    ConfigError,
    Option,
    Preset,
    RunConfig,
    SetupSpec,
    parse_setup,
)
from vgtui.core.pace_option import PACE_OPTION
from vgtui.ui.pace import Pace, show_pace

TEXT_OPTIONS = tuple(option for option in RUN_OPTIONS if option.kind == "text")
SWITCH_OPTIONS = tuple(option for option in RUN_OPTIONS if option.kind == "switch")
(SETUPS_OPTION,) = (option for option in RUN_OPTIONS if option.kind == "setups")
"""The sidebar shows the preset, the text options (inputs), then the switches (checkboxes),
then the setups (a selection list and a field to add one)."""
CUSTOM = "custom"
"""The preset selector's value when the fields are no preset."""


def preset_description(preset: Preset) -> str:
    """One line: where the experiment comes from, its hidden layers and how many setups."""
    config = preset.config
    hidden = config.hidden
    if len(hidden) > 1 and len(set(hidden)) == 1:
        shape = f"{len(hidden)}×{hidden[0]}"
    else:
        shape = ",".join(map(str, hidden))
    source = preset.source.split(",")[0]
    return f"{source} · {shape} hidden · {len(config.setups)} setups"


def preset_options() -> list[tuple[Text, str]]:
    """The selector's options: each preset's name, then (a second line, only in the open
    list: the closed field shows one line) its description; custom last."""
    options = [
        (Text.assemble((name, "bold"), "\n", (preset_description(preset), "dim")), name)
        for name, preset in PRESETS.items()
    ]
    options.append((Text.assemble((CUSTOM, "bold"), "\n", ("your own values", "dim")), CUSTOM))
    return options


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
        if len(segments) < 2 or segments[1].text != Checkbox.BUTTON_INNER:
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


ALLOWED_BY_METAVAR = {"N": r"[0-9]*", "SIZES": r"[0-9, ]*"}
"""What a field may hold as it is typed, by its option's metavar (other numbers: digits, a
point, an exponent): a key bound to an action (x, r, p, ...) never lands in a number field."""
ALLOWED_NUMBER = r"[-+0-9.eE]*"
ALLOWED_PACE = r"[0-9.eE+]*|[fF][uU]?[lL]{0,2}"


def allowed(option: Option) -> str:
    return ALLOWED_BY_METAVAR.get(option.metavar, ALLOWED_NUMBER)


class ConfigSidebar(VerticalScroll, can_focus=False):
    """Edits a :class:`RunConfig`, one field per option of RUN_OPTIONS; :meth:`read_config`
    returns it or raises ConfigError. The sidebar itself takes no focus: the first Tab lands
    on its first field, where the cursor shows."""

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
        with Horizontal(classes="field-row"):
            yield Label("preset", classes="field-label")
            yield Select(
                preset_options(),
                value=self.initial.preset_name,
                allow_blank=False,
                id="field-preset",
                compact=True,
            )
        for option in TEXT_OPTIONS:
            with Horizontal(classes="field-row"):
                yield Label(option.label, classes="field-label")
                yield Input(
                    self.shown(option),
                    id=f"field-{option.key}",
                    validators=[ParserValidator(option.read)],
                    validate_on=["changed", "submitted"],
                    restrict=allowed(option),
                    compact=True,
                )
            yield Static("", id=f"error-{option.key}", classes="field-error")
        with Horizontal(classes="field-row"):
            yield Label(PACE_OPTION.label, classes="field-label")
            yield Input(
                show_pace(self.pace.rate), id="field-pace", restrict=ALLOWED_PACE, compact=True
            )
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
                placeholder="ACTIVATION-INIT[+bn][+res][@OPT[:LR]]",
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
        self.show_preset()

    @on(SelectionList.SelectedChanged)
    @on(Checkbox.Changed)
    def choice_changed(self) -> None:
        self.note_edits()
        self.show_preset()

    @on(Select.Changed, "#field-preset")
    def preset_chosen(self, event: Select.Changed) -> None:
        if event.value in PRESETS:
            self.apply_preset(str(event.value))

    def apply_preset(self, name: str) -> None:
        """Fill every field with preset ``name``'s values. A field the preset leaves open
        (the seed: a preset is the same experiment whatever its seed) keeps its value."""
        preset = PRESETS[name].config
        kept = {
            key: value
            for key, value in self.field_values().items()
            if replace(preset, **{key: value}).preset_name == name
        }
        self.show_config(replace(preset, **kept))

    def field_values(self) -> dict[str, Any]:
        """The value of every field that reads as valid, by RunConfig field."""
        values: dict[str, Any] = {}
        for option in TEXT_OPTIONS:
            text = self.query_one(f"#field-{option.key}", Input).value
            with contextlib.suppress(ConfigError):
                values[option.key] = option.read(text)
        for option in SWITCH_OPTIONS:
            values[option.key] = self.query_one(f"#field-{option.key}", Checkbox).value
        values[SETUPS_OPTION.key] = self.selected_setups()
        return values

    def show_preset(self) -> None:
        """The selector follows the fields: the preset they are, else custom."""
        try:
            name = self.read_config().preset_name
        except ConfigError:
            name = CUSTOM
        select = self.query_one("#field-preset", Select)
        if select.value != name:
            with select.prevent(Select.Changed):
                select.value = name

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
            said = f"added setup {spec.name}"
        elif spec.name in setups.selected:
            said = f"{spec.name} is already listed and ticked"
        else:
            setups.select(spec.name)
            said = f"{spec.name} is already listed: ticked it"
        field.value = ""
        self.show_error("#error-custom", "")
        self.notify(said)

    def read_pace(self, text: str) -> None:
        """Apply the pace field at once (also mid-run); an invalid one says why."""
        try:
            self.pace.rate = PACE_OPTION.read(text)
        except ConfigError as problem:
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
        label.update(Text(reason))  # text, never markup: it may quote what was typed
        label.display = bool(reason)

    def read_config(self) -> RunConfig:
        """The config the fields describe; raises ConfigError with the first problem."""
        values: dict[str, Any] = {}
        for option in TEXT_OPTIONS:
            values[option.key] = option.read(self.query_one(f"#field-{option.key}", Input).value)
        for option in SWITCH_OPTIONS:
            values[option.key] = self.query_one(f"#field-{option.key}", Checkbox).value
        config = RunConfig(**values, setups=self.selected_setups())
        return config.validate(train_size=self.train_size)

    def selected_setups(self) -> tuple[SetupSpec, ...]:
        """The ticked setups, in list order."""
        chosen = set(self.query_one("#setups", SelectionList).selected)
        return tuple(spec for name, spec in self.setups.items() if name in chosen)

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

    def show_config(self, config: RunConfig) -> None:
        """Fill every field with ``config``'s values (a sweep cell opened as a run): its
        setups ticked and listed first, in their order; the other known setups stay, unticked."""
        for option in TEXT_OPTIONS:
            field = self.query_one(f"#field-{option.key}", Input)
            field.value = option.show(getattr(config, option.key))
        for option in SWITCH_OPTIONS:
            self.query_one(f"#field-{option.key}", Checkbox).value = getattr(config, option.key)
        self.setups = {spec.name: spec for spec in (*config.setups, *self.setups.values())}
        chosen = set(config.setup_names)
        setup_list = self.query_one("#setups", SelectionList)
        setup_list.clear_options()
        setup_list.add_options(Selection(name, name, name in chosen) for name in self.setups)
