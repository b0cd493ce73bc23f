"""The gate file: golden datasets, an optional policy, and checks. YAML, validated with pydantic.

::

    name: credit-default          # names the gate in the run history (default: the file name)
    confidence: 0.95              # level of .lower/.upper bounds and of baseline significance
    bootstrap: 1000               # resamples of the paired / single-sample bootstrap
    seed: 0
    policy: policy.yaml           # optional; needed by checks 'at policy'
    datasets:
      credit:                     # the dataset's name
        path: data/golden.csv     # relative to this file
        label: default
        score: score
        pos_label: 1              # optional
        weight: w                 # optional
        segments: [student]       # optional, for 'per segment:' checks
        fingerprint: sha256:...   # optional pin of labels + scores + weights + segments
        rows_fingerprint: sha256:...  # optional pin of labels + weights + segments only
    checks:
      - roc_auc >= 0.90           # on every dataset
      - check: recall >= 0.9 at policy
        dataset: credit           # only this one
        name: policy recall       # shown instead of the check text

Every problem is reported with its field path (``datasets.credit.label``, ``checks[2]``) in one
:class:`~thresher.errors.GateError`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr,
                      ValidationError)

from thresher.errors import GateError, PolicyError, SpecError
from thresher.gate.spec import AtPolicy, Check, parse

NAME = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
FINGERPRINT = r"^sha256:[0-9a-f]{64}$"
FIX = "Fix the field(s) above; docs/gate.md describes the gate file."


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number, not {type(value).__name__} (write 0.95, not \"0.95\")")
    return float(value)


def _columns(value):
    # "a, b" is accepted for a list of segment columns, as the CLI's --by
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def _check_item(value):
    if isinstance(value, str):
        return {"check": value}
    # unquoted YAML reads "- per segment: recall >= 0.9 ..." as the mapping {"per segment": "recall >= 0.9 ..."}
    if isinstance(value, dict):
        keys = [k for k in value if isinstance(k, str) and " ".join(k.lower().split()) == "per segment"]
        if len(keys) == 1 and isinstance(value[keys[0]], str) and "check" not in value:
            rest = {k: v for k, v in value.items() if k != keys[0]}
            return {"check": f"per segment: {value[keys[0]]}", **rest}
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetModel(_Strict):
    path: Annotated[StrictStr, Field(min_length=1)]
    label: Annotated[StrictStr, Field(min_length=1)] = "label"
    score: Annotated[StrictStr, Field(min_length=1)] = "score"
    pos_label: StrictStr | StrictInt | StrictBool | None = None
    weight: StrictStr | None = None
    segments: Annotated[list[StrictStr], BeforeValidator(_columns)] = Field(default_factory=list)
    fingerprint: Annotated[StrictStr, Field(pattern=FINGERPRINT)] | None = None
    rows_fingerprint: Annotated[StrictStr, Field(pattern=FINGERPRINT)] | None = None


class CheckModel(_Strict):
    check: StrictStr
    dataset: StrictStr | None = None
    name: StrictStr | None = None


class GateModel(_Strict):
    version: Literal[1] = 1
    name: Annotated[StrictStr, Field(pattern=NAME)] | None = None
    description: StrictStr | None = None
    confidence: Annotated[float, BeforeValidator(_number), Field(gt=0, lt=1)] = 0.95
    bootstrap: Annotated[StrictInt, Field(ge=100, le=100_000)] = 1000
    seed: Annotated[StrictInt, Field(ge=0)] = 0
    policy: Annotated[StrictStr, Field(min_length=1)] | None = None
    datasets: Annotated[dict[Annotated[StrictStr, Field(pattern=NAME)], DatasetModel], Field(min_length=1)]
    checks: Annotated[list[Annotated[CheckModel, BeforeValidator(_check_item)]], Field(min_length=1)]


@dataclass(frozen=True)
class Dataset:
    """A golden dataset of the gate, its path resolved against the gate file's folder."""

    name: str
    path: Path
    label: str
    score: str
    pos_label: object = None
    weight: str | None = None
    segments: tuple[str, ...] = ()
    fingerprint: str | None = None
    rows_fingerprint: str | None = None


@dataclass(frozen=True)
class GateCheck:
    """One check on one dataset; ``index`` is its position in the file's ``checks`` list."""

    check: Check
    dataset: str
    index: int
    name: str | None = None

    @property
    def title(self) -> str:
        return self.name or str(self.check)


@dataclass(frozen=True)
class Gate:
    """A validated gate file. ``checks`` holds one entry per (check, dataset) pair, in file order."""

    name: str
    datasets: dict[str, Dataset]
    checks: list[GateCheck]
    confidence: float = 0.95
    bootstrap: int = 1000
    seed: int = 0
    policy_path: Path | None = None
    policy: object = None
    path: Path | None = None
    description: str | None = None

    @classmethod
    def load(cls, path) -> "Gate":
        """Read and validate a gate file (YAML)."""
        path = Path(path)
        if not path.is_file():
            raise GateError(f"Gate file not found: '{path}'. Pass the path of a YAML gate file "
                            "(see examples/gate.yaml).")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise GateError(f"Invalid gate file '{path}': not valid YAML{where} "
                            f"({getattr(exc, 'problem', None) or exc}).") from None
        return cls.from_dict(data, base=path.parent, source=f"'{path}'", name=path.stem, path=path)

    @classmethod
    def from_dict(cls, data, *, base=".", source: str = "(dict)", name: str = "gate", path: Path | None = None):
        """Validate a gate given as a dict; relative paths are taken from ``base``."""
        if not isinstance(data, dict):
            raise GateError(f"Invalid gate file {source}: the top level must be a mapping with 'datasets' and "
                            f"'checks'; got {type(data).__name__}. {FIX}")
        try:
            model = GateModel.model_validate(data)
        except ValidationError as exc:
            raise GateError(f"Invalid gate file {source}:\n" + "\n".join(_describe(exc, data)) + f"\n{FIX}") from None
        return _build(model, data, Path(base), source, name, path)


def _path(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


_FIELDS = {GateModel: list(GateModel.model_fields), DatasetModel: list(DatasetModel.model_fields),
           CheckModel: list(CheckModel.model_fields)}


def _model_of(container: tuple):
    """The model whose fields live at ``container`` (the location of a mapping in the file)."""
    if not container:
        return GateModel
    if len(container) == 2 and container[0] == "datasets":
        return DatasetModel
    if len(container) == 2 and container[0] == "checks":
        return CheckModel
    return None


def _raw(data, loc: tuple):
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _describe(exc: ValidationError, data) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if p != "[key]")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            fields = _FIELDS.get(_model_of(loc[:-1]), [])
            close = difflib.get_close_matches(str(loc[-1]), fields, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            msg = f"unknown field '{loc[-1]}'.{hint} Fields here: {', '.join(fields)}"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif "[key]" in err["loc"]:
            msg = f"'{loc[-1]}' is not a valid dataset name: use letters, digits, '_', '.', '-' (first a letter)"
        elif err["type"] == "string_pattern_mismatch" and loc[-1] in ("fingerprint", "rows_fingerprint"):
            msg = "must look like sha256:<64 hex digits>, as thresher check prints it"
        else:
            got = err.get("input")
            if not isinstance(got, (dict, list)) and err["type"] not in ("value_error",):
                msg += f" (got {got!r})"
        # a check written as a plain string has no 'check' field to name
        if len(loc) == 3 and loc[0] == "checks" and loc[2] == "check" and isinstance(_raw(data, loc[:2]), str):
            loc = loc[:2]
        lines.append(f"  {_path(loc)}: {msg}")
    return lines


def _build(model: GateModel, data: dict, base: Path, source: str, default_name: str, path: Path | None) -> Gate:
    problems: list[tuple[str, str]] = []
    datasets = {
        name: Dataset(name, (base / d.path), d.label, d.score, d.pos_label, d.weight, tuple(d.segments),
                      d.fingerprint, d.rows_fingerprint)
        for name, d in model.datasets.items()
    }
    policy = policy_path = None
    if model.policy is not None:
        from thresher.policy import Policy

        policy_path = base / model.policy
        try:
            policy = Policy.load(policy_path)
        except PolicyError as exc:
            problems.append(("policy", str(exc).replace("\n", "\n    ")))
    checks: list[GateCheck] = []
    for i, item in enumerate(model.checks):
        where = f"checks[{i}]"
        try:
            check = parse(item.check)
        except SpecError as exc:
            written_as_text = isinstance(_raw(data, ("checks", i)), str)
            problems.append((where if written_as_text else f"{where}.check", str(exc)))
            continue
        if item.dataset is not None and item.dataset not in datasets:
            problems.append((f"{where}.dataset", f"unknown dataset '{item.dataset}'; the gate's datasets are "
                                                 f"{', '.join(datasets)}"))
            continue
        targets = [item.dataset] if item.dataset is not None else list(datasets)
        if isinstance(check.at, AtPolicy):
            if model.policy is None:
                problems.append((where, f"'{check}' is measured at the policy, but the gate has none: add "
                                        "'policy: PATH' at the top level"))
                continue
            if policy is not None:
                unknown = [a for a in check.at.actions if a not in policy.model.actions]
                if unknown:
                    problems.append((where, f"'{unknown[0]}' is not an action of policy '{policy.name}' "
                                            f"(actions: {', '.join(policy.model.actions)})"))
                    continue
        if check.per_segment:
            bare = [t for t in targets if not datasets[t].segments]
            if bare:
                problems.append((where, f"'per segment:' needs segment columns on dataset '{bare[0]}': add "
                                        f"'segments: [COLUMN]' to datasets.{bare[0]}"))
                continue
        checks.extend(GateCheck(check, t, i, item.name) for t in targets)
    if problems:
        raise GateError(f"Invalid gate file {source}:\n" + "\n".join(f"  {p}: {m}" for p, m in problems) + f"\n{FIX}")
    return Gate(model.name or default_name, datasets, checks, model.confidence, model.bootstrap, model.seed,
                policy_path, policy, path, model.description)
