"""Smoke test for benchmarks/bench_peers.py: agreement and one short round per engine.

The peers (casbin, cedarpy, regopy, oso) are the `bench` extra, not test dependencies: scopes
and the floor always run; each peer runs where it is installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_peers  # noqa: E402
from peers import PEERS, load  # noqa: E402
from peers import harness  # noqa: E402
from peers.requests import COURIER_REQUESTS  # noqa: E402
from peers.table import COURIER, generated_rows  # noqa: E402

INSTALLED = list(load()[0])
QUICK = harness.Settings.quick()


def contenders_of(engine: str) -> list[harness.Contender]:
    """Every Courier and generated (10 endpoints) contender that `engine` answers in."""
    names = [engine] if engine in PEERS else []
    courier_peers = [harness.build(peer, COURIER) for peer in harness.peers(names)]
    generated_peers = [harness.build(peer, generated_rows(10)) for peer in harness.peers(names)]
    workloads = harness.courier_contenders(courier_peers)
    everyone = workloads["warm"] + workloads["string"]
    everyone += harness.generated_contenders(10, generated_peers)
    return [contender for contender in everyone if contender.engine == engine]


def test_the_courier_requests_cover_allows_and_denies():
    from scopes import Policy

    answers = [Policy.courier().authorize(*request).allowed for request in COURIER_REQUESTS]
    assert len(COURIER_REQUESTS) >= 60
    assert 20 <= sum(answers) <= len(answers) - 20


@pytest.mark.parametrize("engine", ["scopes", "floor", *INSTALLED])
def test_agreement_then_one_quick_round(engine):
    contenders = contenders_of(engine)
    assert contenders
    harness.measure(contenders, QUICK, harness.clock_overhead())
    for contender in contenders:
        assert len(contender.samples) >= 1, contender.label
        assert contender.turns == QUICK.rounds


def test_a_disagreement_stops_the_run_naming_engine_and_request():
    floor, from_string = contenders_of("floor")  # warm, then from the scope string
    floor.decide = lambda grants, user_ids, method, path: True  # allows everything
    with pytest.raises(harness.Disagreement) as caught:
        harness.check_agreement(floor)
    message = str(caught.value)
    assert message.startswith("floor (floor: hand-written if chain) disagrees with scopes: ")
    assert "floor allows, scopes denies" in message


def test_the_command_prints_the_tables(capsys):
    assert bench_peers.main(["--quick", "--peers", ""]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Machine: ")
    assert "| floor: hand-written if chain | " in out
    assert "| scopes, ids never seen (routed from scratch) | " in out
    assert "| Generated table, warm | 10 endpoints: median / p99 | 100 endpoints" in out


def test_an_unknown_peer_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        bench_peers.main(["--peers", "zanzibar"])
    assert exit_.value.code == 2
    assert "unknown peer zanzibar" in capsys.readouterr().err
