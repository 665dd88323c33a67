"""Reading a gateway's decision log: a repeated call is decoded once, and read exactly as a
JSON decoder would read it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from scopes.analysis.decision_log import read_decision_log
from tests import strategies


def _decoded(line: str):
    """What a JSON decoder reads of a line: its decision fields, or None (malformed)."""
    try:
        entry = json.loads(line)
        fields = tuple(entry[key] for key in ("decision", "method", "path", "reason", "client_id"))
    except (ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None
    decision, method, path, reason, client_id = fields
    if (decision in ("allow", "deny") and all(type(v) is str for v in (method, path, reason))
            and (client_id is None or type(client_id) is str)):
        return fields
    return None


@given(st.lists(strategies.decision_log_lines(), min_size=1, max_size=6))
def test_a_log_is_read_as_json_reads_each_line(lines):
    """Each line counts as the decision json.loads finds in it, or as malformed: decoding a
    gateway-framed line's middle once, for all its repeats, changes nothing."""
    lines = lines + lines  # repeats: the second of each is read from what the first decoded
    summary = read_decision_log(lines)
    expected = [_decoded(line) for line in lines]
    blank = [not line.strip() for line in lines]
    assert summary.malformed == sum(d is None and not b for d, b in zip(expected, blank))
    assert summary.decisions == sum(d is not None for d in expected)
    assert summary.without_client == sum(d is not None and d[4] is None for d in expected)
    counted = {
        (client_id, key): log.decisions[key]
        for client_id, log in summary.clients.items() for key in log.decisions
    }
    wanted: dict = {}
    for d in expected:
        if d is not None and d[4] is not None:
            wanted[(d[4], d[:4])] = wanted.get((d[4], d[:4]), 0) + 1
    assert counted == wanted


def test_repeats_of_a_call_differ_only_in_time_and_latency():
    line = ('{"time": 1.5, "decision": "allow", "status": 200, "method": "GET", "path": "/brands", '
            '"rule": "GET /brands", "reason": "allowed: GET /brands matches GET /brands; granted by '
            'read:brands", "subject": "s", "client_id": "c", "latency_us": 12.0}')
    lines = [line, line.replace("1.5", "2e3", 1).replace("12.0", "7"), line.replace("1.5", "1.", 1)]
    summary = read_decision_log(lines)
    assert (summary.decisions, summary.malformed, summary.malformed_lines) == (2, 1, [3])
    [(key, count)] = summary.clients["c"].decisions.items()
    assert (key[:3], count) == (("allow", "GET", "/brands"), 2)
