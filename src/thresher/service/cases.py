"""Request bodies -> clean case columns, with FastAPI-style errors that name the field path.

The hot path never builds a model per case: columns are pulled out with list comprehensions, their
element types checked as a set (``set(map(type, column))``), and only when that finds a problem is
each case walked to name the first bad field. NaN and Infinity are not JSON; orjson refuses them,
and the slow path re-reads the body to say where they were.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import orjson
import pyarrow as pa

from thresher.errors import InputError
from thresher.policy.schema import match_text

SCALARS = (str, int, float, bool, type(None))
_ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
MAX_ERRORS = 20


class RequestError(InputError):
    """A request the service refuses: an HTTP status and FastAPI-style ``detail`` entries."""

    def __init__(self, status: int, detail: list[dict] | str):
        self.status = status
        self.detail = detail
        text = detail if isinstance(detail, str) else "; ".join(f"{d['path']}: {d['msg']}" for d in detail)
        super().__init__(text)


def field_path(loc) -> str:
    """``("cases", 3, "score")`` -> ``cases[3].score``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(body)"


def problem(loc: tuple, msg: str, kind: str) -> dict:
    return {"loc": ["body", *loc], "path": field_path(loc), "msg": msg, "type": kind}


class _NonFinite:
    def __init__(self, literal: str):
        self.literal = literal


def _find_non_finite(value, loc=()):
    if isinstance(value, _NonFinite) or (isinstance(value, float) and not math.isfinite(value)):
        return loc, (value.literal if isinstance(value, _NonFinite) else repr(value))
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _find_non_finite(item, (*loc, key))
        if found:
            return found
    return None


def parse_json(body: bytes):
    """The body as Python objects; 422 naming the field for NaN / Infinity / out-of-range numbers."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
    try:  # slow path, errors only: the stdlib parser accepts the non-finite literals, so it can say where
        lenient = json.loads(body, parse_constant=_NonFinite)
    except (ValueError, UnicodeDecodeError):
        raise RequestError(422, [problem((), f"the body is not valid JSON ({reason}); send a JSON object",
                                         "json_invalid")]) from None
    found = _find_non_finite(lenient)
    if found is None:  # pragma: no cover - orjson and the stdlib disagree on something else
        raise RequestError(422, [problem((), f"the body is not valid JSON ({reason})", "json_invalid")])
    loc, literal = found
    raise RequestError(422, [problem(loc, f"{literal} is not a finite number; scores must be finite "
                                          "(NaN and Infinity are not JSON)", "finite_number")]) from None


@dataclass
class Cases:
    """Validated columns of a request: the case ids and scores as sent, a float64 score array and,
    per segment field, the values as sent and an Arrow array for :meth:`Policy.decide_table`."""

    ids: tuple | list
    scores: tuple | list
    score_array: np.ndarray
    segments: list[tuple | list]
    segment_arrays: list[pa.Array]

    def __len__(self) -> int:
        return len(self.ids)


def _case_problems(case, loc: tuple, score_keys: tuple[str, ...], fields: list[str]) -> list[dict]:
    """Every problem of one case (the slow path that names fields)."""
    if not isinstance(case, dict):
        return [problem(loc, f"a case must be a JSON object with id, score and the segment fields; "
                             f"got {type(case).__name__}", "dict_type")]
    out = []
    cid = case.get("id")
    if "id" not in case:
        out.append(problem((*loc, "id"), "missing: every case needs an id (string or integer) for the audit log",
                           "missing"))
    elif isinstance(cid, bool) or not isinstance(cid, (str, int)):
        out.append(problem((*loc, "id"), f"must be a string or an integer, not {_json_type(cid)}", "id_type"))
    key = next((k for k in score_keys if k in case), None)
    if key is None:
        out.append(problem((*loc, score_keys[0]), "missing: every case needs a score"
                           + (f" (or '{score_keys[1]}')" if len(score_keys) > 1 else ""), "missing"))
    else:
        score = case[key]
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            out.append(problem((*loc, key), f"must be a number, not {_json_type(score)}", "float_type"))
        elif not math.isfinite(float(score)):
            out.append(problem((*loc, key), f"{score!r} is not a finite number; scores must be finite",
                               "finite_number"))
    for field in fields:
        if field not in case:
            out.append(problem((*loc, field), f"missing: segment field '{field}' is required by the policy "
                                              "(send null when it is unknown)", "missing"))
        elif not isinstance(case[field], SCALARS):
            out.append(problem((*loc, field), f"must be a string, number, boolean or null, not "
                                              f"{_json_type(case[field])}", "scalar_type"))
    return out


def _json_type(value) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


_SCALAR_TYPES = frozenset(SCALARS)


def check_case(case, score_keys: tuple[str, ...], fields: list[str], loc: tuple = ()) -> None:
    if type(case) is dict:  # the common, valid case in a few type checks; anything else is walked below
        cid, score = case.get("id"), case.get(score_keys[0])
        if type(cid) in (str, int) and type(score) in (float, int) and math.isfinite(score) \
                and all(type(case.get(f, case)) in _SCALAR_TYPES for f in fields):
            return
    found = _case_problems(case, loc, score_keys, fields)
    if found:
        raise RequestError(422, found)


def _fail_batch(cases: list, score_keys, fields) -> None:
    found = []
    for i, case in enumerate(cases):
        found.extend(_case_problems(case, ("cases", i), score_keys, fields))
        if len(found) >= MAX_ERRORS:
            break
    if not found:  # pragma: no cover - the fast path only falls back when something is wrong
        found = [problem(("cases",), "could not read the cases", "value_error")]
    raise RequestError(422, found[:MAX_ERRORS])


def segment_array(values: list) -> pa.Array:
    """An Arrow column for rule matching. Mixed types (``"1"`` and ``1``) become their text, which is
    exactly how :meth:`Rule.matches` compares them, so the decision does not change."""
    kinds = set(map(type, values)) - {type(None)}
    if not kinds:
        return pa.nulls(len(values), pa.string())
    if len(kinds) == 1:
        try:
            return pa.array(values, type=_ARROW_TYPES[next(iter(kinds))])
        except (pa.ArrowInvalid, OverflowError):  # an integer beyond int64: text, like any other
            pass
    return pa.array([None if v is None else match_text(v) for v in values], pa.string())


def batch_columns(cases: list, score_keys: tuple[str, ...], fields: list[str]) -> Cases:
    """Columns of a list of cases; raises :class:`RequestError` (422) naming the first bad fields."""
    try:  # one pass in C: a tuple per case, transposed into a tuple per field
        ids, scores, *segments = zip(*map(itemgetter("id", score_keys[0], *fields), cases))
    except (KeyError, TypeError, ValueError):
        try:  # a case without a field, or with the score under the policy's own score name
            ids = [c["id"] for c in cases]
            scores = [c[score_keys[0]] if score_keys[0] in c else c[score_keys[-1]] for c in cases]
            segments = [[c[f] for c in cases] for f in fields]
        except (KeyError, TypeError):
            _fail_batch(cases, score_keys, fields)
    if not set(map(type, ids)) <= {str, int} or not set(map(type, scores)) <= {float, int}:
        _fail_batch(cases, score_keys, fields)
    for column in segments:
        if not set(map(type, column)) <= set(SCALARS):
            _fail_batch(cases, score_keys, fields)
    score_array = np.array(scores, dtype=np.float64)
    if not np.isfinite(score_array).all():  # huge integers overflow to inf
        _fail_batch(cases, score_keys, fields)
    return Cases(ids, scores, score_array, segments, [segment_array(s) for s in segments])
