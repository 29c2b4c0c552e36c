"""The synthetic traffic's clock, driven with explicit times: conversations come due at RATE per
second per agent, each on the split live when it came due; a long backlog is skipped."""

from __future__ import annotations

from click.testing import CliRunner

from convai_ops.cli import cli
from convai_ops.emulator import Emulator, EmulatorConfig
from convai_ops.emulator.agents import create_agent
from convai_ops.emulator.branches import create_branch
from convai_ops.emulator.conversations import ConversationRecord, TurnRecord
from convai_ops.emulator.core import LiveTraffic
from convai_ops.emulator.deployments import deploy
from convai_ops.emulator.traffic import MAX_BACKLOG, catch_up


def _emulator(rate: float) -> Emulator:
    return Emulator(EmulatorConfig(traffic_rate=rate, test_delay_s=0.05))


def _branches(emu: Emulator) -> list[str | None]:
    return [record.branch_id for record, _ in emu.live.conversations]


def test_conversations_come_due_at_the_rate_on_the_split_live_at_the_time() -> None:
    emu = _emulator(10)
    agent = create_agent(emu, {"name": "Support"}, versioned=True)
    main_tip = emu.store.branches[agent.main_branch_id].tip_version_id
    assert catch_up(emu, now=1000.0) == 0  # traffic starts when the agent is first seen
    assert catch_up(emu, now=1001.0) == 10
    branch, _ = create_branch(
        emu, agent, {"parent_version_id": main_tip, "name": "canary", "description": "c"}
    )
    strategy = {"type": "percentage", "traffic_percentage": 100}
    deploy(
        emu,
        agent,
        {
            "deployment_request": {
                "requests": [{"branch_id": branch.id, "deployment_strategy": strategy}]
            }
        },
    )
    assert catch_up(emu, now=1001.5) == 5
    assert _branches(emu) == [agent.main_branch_id] * 10 + [branch.id] * 5
    starts = [started for _, started in emu.live.conversations]
    assert starts[0] == 1000 and starts[-1] == 1001


def test_a_backlog_beyond_the_cap_is_skipped() -> None:
    emu = _emulator(100)
    create_agent(emu, {"name": "Support"}, versioned=True)
    catch_up(emu, now=2000.0)
    assert catch_up(emu, now=2000.0 + 60) == MAX_BACKLOG
    assert catch_up(emu, now=2000.0 + 60.5) == 50


def test_no_rate_no_conversations() -> None:
    emu = _emulator(0)
    create_agent(emu, {"name": "Support"}, versioned=True)
    catch_up(emu, now=3000.0)
    assert catch_up(emu, now=3100.0) == 0
    assert emu.live.conversations == []


def test_the_emulator_command_refuses_a_negative_rate() -> None:
    result = CliRunner().invoke(cli, ["emulator", "--traffic", "-1"])
    assert result.exit_code == 2
    assert "--traffic" in result.output


def test_the_oldest_conversations_are_forgotten_beyond_the_cap() -> None:
    live = LiveTraffic(cap=3)
    for started, branch in [(5, "b1"), (1, "b1"), (3, "b2"), (4, "b2"), (2, "b1")]:
        transcript = [TurnRecord(role="user", message="hi")]
        record = ConversationRecord(
            conversation_id=f"conv_{started}",
            agent_id="agent_x",
            start_time_unix_secs=started,
            call_duration_secs=4,
            transcript=transcript,
            branch_id=branch,
        )
        live.add(record, started)
    assert [started for _, started in live.conversations] == [3, 4, 5]
    assert (live.calls_since("b1", 0), live.calls_since("b2", 0)) == (1, 2)
    assert live.calls_since("b2", 4) == 1
