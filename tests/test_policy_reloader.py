"""PolicyReloader: the policy in force follows its file, keeps the last good one, and says why."""

from __future__ import annotations

import logging
import os
import signal
import threading

import pytest

from scopes import Policy, PolicyError
from scopes.policy import reloader as reloader_module
from scopes.policy.reloader import PolicyReloader
from tests.policies import courier_text

BROKEN = '\n[[endpoints]]\nmethods = ["get"]\n'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def policy_file(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(courier_text(), encoding="utf-8")
    return path


def allows_labels(policy: Policy) -> bool:
    return policy.authorize("read:labels", "GET", "/labels").allowed


def test_without_a_file_the_courier_policy_is_in_force():
    reloader = PolicyReloader(None)
    assert reloader.current() is Policy.courier()
    assert reloader.reload() is False


def test_a_changed_file_is_loaded_once_the_check_interval_has_passed(policy_file):
    clock = Clock()
    reloader = PolicyReloader(str(policy_file), check_interval=1.0, clock=clock)
    first = reloader.current()
    assert not allows_labels(first)
    policy_file.write_text(courier_text(labels=True), encoding="utf-8")
    assert reloader.current() is first, "not looked at again within the interval"
    clock.now += 1.0
    assert allows_labels(reloader.current())
    again = reloader.current()
    clock.now += 5.0
    assert reloader.current() is again, "an unchanged file is not loaded again"


def test_a_broken_edit_keeps_the_policy_in_force_and_logs_why(policy_file, caplog):
    reloader = PolicyReloader(str(policy_file), check_interval=0)
    first = reloader.current()
    policy_file.write_text(courier_text() + BROKEN, encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="scopes.policy"):
        assert reloader.current() is first
    assert "missing required key 'path'" in (reloader.last_error or "")
    assert '"event": "policy-reload-failed"' in caplog.text
    policy_file.write_text(courier_text(labels=True), encoding="utf-8")
    assert allows_labels(reloader.current()) and reloader.last_error is None


def test_a_file_broken_before_start_serves_the_text_checked_at_start(policy_file, caplog):
    checked = courier_text(labels=True)
    policy_file.write_text(courier_text() + BROKEN, encoding="utf-8")
    with pytest.raises(PolicyError):
        PolicyReloader(str(policy_file))
    with caplog.at_level(logging.ERROR, logger="scopes.policy"):
        reloader = PolicyReloader(str(policy_file), last_good=checked)
    assert allows_labels(reloader.current())
    assert '"event": "policy-load-failed"' in caplog.text


def test_sighup_reloads_now(policy_file):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are installed from the main thread only")
    previous = signal.getsignal(signal.SIGHUP)
    reloader = PolicyReloader(str(policy_file), check_interval=3600)
    try:
        reloader.reload_on_sighup()
        policy_file.write_text(courier_text(labels=True), encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)  # handled before the next bytecode runs
        assert allows_labels(reloader.policy)
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_the_module_lists_its_names():
    assert dir(reloader_module) == reloader_module.__all__ == ["PolicyReloader"]
