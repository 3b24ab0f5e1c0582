"""CommandRunner through the real engine, with real processes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import pytest
from runner_helpers import LoopLag, alive, pids_in, project, wait_for_log, wait_gone

from pbrain_widgets import InvalidArgumentError, JobStatus, LogLevel, StageStatus
from pbrain_widgets.engine.logs import LOG_BACKLOG_LINES
from pbrain_widgets.runners.command import NEEDS_USER_ACTION_EXIT, CommandRunner
from pbrain_widgets.runners.lines import LINE_LIMIT

# A process tree whose members all ignore SIGTERM: the script, two children in its group and a
# grandchild that left the group with setsid.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
kids = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
kids.append(subprocess.Popen([sys.executable, "-c", code], start_new_session=True))
time.sleep(0.3)
print("pids:", *[k.pid for k in kids], flush=True)
time.sleep(600)
"""


async def run_one(engine, subjects=("s1",)):
    p, subs = project(engine, subjects)
    job = engine.run_stage(p.id, subs[0].id, "work")
    [job] = await engine.wait([job], timeout=30)
    return job, engine.get_logs(job.id), subs[0]


async def test_output_streams_in_order_with_levels_and_progress(make_engine, script):
    argv = script(
        """
        import sys
        print("[INFO] loading")
        print("PROGRESS 30 Fitting voxels")
        print("WARNING: low SNR")
        print("[PROGRESS] 80% - Writing maps")
        print("[ERROR] not fatal")
        print("[SUCCESS] maps written")
        print("plain line")
        """
    )
    engine = make_engine(runner=CommandRunner(argv))
    progress: list[tuple[float, str]] = []
    engine.on_job_update(lambda j: progress.append((j.progress, j.current_step)))
    job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.COMPLETED
    body = [(e.level, e.message) for e in logs if not e.message.startswith(("$", "Starting", "Work "))]
    assert body == [
        (LogLevel.INFO, "[INFO] loading"),
        (LogLevel.PROGRESS, "PROGRESS 30 Fitting voxels"),
        (LogLevel.WARNING, "WARNING: low SNR"),
        (LogLevel.PROGRESS, "[PROGRESS] 80% - Writing maps"),
        (LogLevel.ERROR, "[ERROR] not fatal"),
        (LogLevel.SUCCESS, "[SUCCESS] maps written"),
        (LogLevel.INFO, "plain line"),
    ]
    assert (30.0, "Fitting voxels") in progress
    assert (80.0, "Writing maps") in progress
    assert [e.seq for e in logs] == list(range(1, len(logs) + 1))


async def test_lines_arrive_while_the_command_runs(make_engine, script):
    argv = script(
        """
        import sys, time
        print("first", flush=True)
        print("on stderr", file=sys.stderr, flush=True)
        time.sleep(1.0)
        print("second", flush=True)
        """
    )
    engine = make_engine(runner=CommandRunner(argv))
    arrivals: dict[str, float] = {}
    engine.on_job_logs(None, lambda e: arrivals.setdefault(e.message, time.monotonic()))
    job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.COMPLETED
    assert arrivals["second"] - arrivals["first"] > 0.7
    assert arrivals["second"] - arrivals["on stderr"] > 0.7
    assert next(e for e in logs if e.message == "on stderr").level is LogLevel.INFO


async def test_placeholders_env_and_working_folder(make_engine, script, tmp_path):
    folder = tmp_path / "sub-01"
    folder.mkdir()
    argv = script(
        """
        import os, sys
        print("args:", *sys.argv[1:])
        print("cwd:", os.getcwd())
        print("env:", os.environ["EXTRA"], os.environ["PBRAIN_STAGE"], os.environ["PBRAIN_SUBJECT"])
        """
    )
    runner = CommandRunner(
        [*argv, "{subject}", "{stage}", "{attempt}", "{project}", "--dir={subject_dir}"],
        env={"EXTRA": "x-{subject}"},
    )
    engine = make_engine(runner=runner)
    job, logs, subject = await run_one(engine, subjects=[{"name": "sub-01", "source_path": folder}])
    messages = [e.message for e in logs]
    assert job.status is JobStatus.COMPLETED, messages
    assert f"args: sub-01 work 1 p0 --dir={folder}" in messages
    assert f"cwd: {folder}" in messages
    assert "env: x-sub-01 work sub-01" in messages


def test_bad_templates_are_refused_at_construction():
    with pytest.raises(InvalidArgumentError, match=r"unknown placeholder \{subjet\}.*\{subject\}"):
        CommandRunner([sys.executable, "{subjet}"])
    with pytest.raises(InvalidArgumentError, match="never run by a shell"):
        CommandRunner("echo hello")
    with pytest.raises(InvalidArgumentError, match="empty"):
        CommandRunner([])
    with pytest.raises(InvalidArgumentError, match="executable not found: 'no-such-tool-xyz'"):
        CommandRunner(["no-such-tool-xyz", "--help"])
    with pytest.raises(InvalidArgumentError, match="timeout"):
        CommandRunner([sys.executable], timeout=0)
    with pytest.raises(InvalidArgumentError, match="env"):
        CommandRunner([sys.executable], env={"A": 1})


async def test_missing_executable_known_only_per_job_fails_that_job(make_engine):
    engine = make_engine(runner=CommandRunner(["no-such-tool-{stage}"]))
    job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.FAILED
    assert job.error == "executable not found: 'no-such-tool-work'"


async def test_exit_codes(make_engine, script):
    argv = script(
        """
        import sys
        for i in range(15):
            print(f"line {i}")
        print("fit diverged", file=sys.stderr)
        sys.exit(int(sys.argv[1]))
        """
    )
    engine = make_engine(runner=CommandRunner([*argv, "3"]))
    job, logs, subject = await run_one(engine)
    assert job.status is JobStatus.FAILED
    assert job.error.startswith(f"{argv[0]} exited with code 3; last lines of output:")
    assert job.error.endswith("fit diverged")
    assert "line 6" in job.error and "line 5" not in job.error
    assert engine.get_subject(subject.id).stage_statuses["work"] is StageStatus.FAILED

    engine = make_engine(runner=CommandRunner([*argv, str(NEEDS_USER_ACTION_EXIT)]))
    job, logs, subject = await run_one(engine)
    assert job.status is JobStatus.FAILED
    assert job.error == "needs user action: fit diverged"
    assert engine.get_subject(subject.id).stage_statuses["work"] is StageStatus.WAITING


@pytest.mark.parametrize(
    ("sig", "said"),
    [
        (signal.SIGKILL, "was killed by SIGKILL (signal 9) — possibly out of memory"),
        (signal.SIGTERM, "was killed by SIGTERM (signal 15)"),
    ],
)
async def test_a_command_killed_by_a_signal_is_reported_so(make_engine, script, sig, said):
    argv = script(
        """
        import os, time
        print("pid:", os.getpid(), flush=True)
        time.sleep(600)
        """
    )
    engine = make_engine(runner=CommandRunner(argv))
    p, subs = project(engine)
    job = engine.run_stage(p.id, subs[0].id, "work")
    [pid] = pids_in((await wait_for_log(engine, job.id, "pid:")).message)
    os.kill(pid, sig)  # as the OOM killer does, from outside
    [job] = await engine.wait([job], timeout=30)
    assert job.error == f"{argv[0]} {said}; last lines of output:\npid: {pid}"
    assert not any("Traceback" in e.message for e in engine.get_logs(job.id))


async def test_a_nonexistent_subject_folder_fails_its_job_and_others_carry_on(make_engine, script, tmp_path):
    gone, there = tmp_path / "gone", tmp_path / "there"
    gone.mkdir()
    there.mkdir()
    argv = script("print('ran')")
    engine = make_engine(runner=CommandRunner([*argv, "{subject_dir}"]))
    p, subs = project(engine, [{"name": "a", "source_path": gone}, {"name": "b", "source_path": there}])
    gone.rmdir()
    jobs = await engine.wait(engine.run_pipeline(p.id), timeout=30)
    by_subject = {j.subject_id: j for j in jobs}
    assert by_subject[subs[0].id].status is JobStatus.FAILED
    assert by_subject[subs[0].id].error == f"subject folder does not exist: '{gone}' (subject 'a')"
    assert by_subject[subs[1].id].status is JobStatus.COMPLETED


async def test_binary_garbage_and_a_10_mb_line(make_engine, script):
    argv = script(
        """
        import os, sys
        out = sys.stdout.buffer
        out.write(bytes(range(256)) + b"\\xff\\xfe\\xc3\\n")
        out.write(b"y" * 10_000_000 + b"\\n")
        out.write(b"after\\n")
        out.flush()
        """
    )
    engine = make_engine(runner=CommandRunner(argv))
    start = time.monotonic()
    job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.COMPLETED
    assert time.monotonic() - start < 10
    messages = [e.message for e in logs]
    garbage = next(m for m in messages if "\ufffd" in m)
    assert garbage.endswith("\ufffd\ufffd\ufffd")
    long_line = next(m for m in messages if m.startswith("yyy"))
    assert long_line == "y" * LINE_LIMIT + f" ... [line truncated: {10_000_000 - LINE_LIMIT} more characters]"
    assert messages.index(long_line) + 1 == messages.index("after")


async def test_timeout_fails_the_job_and_kills_its_processes(make_engine, script):
    argv = script(STUBBORN)
    engine = make_engine(runner=CommandRunner(argv, timeout=1.5, grace=0.3))
    p, subs = project(engine)
    job = engine.run_stage(p.id, subs[0].id, "work")
    pids = pids_in((await wait_for_log(engine, job.id, "pids:")).message)
    [job] = await engine.wait([job], timeout=30)
    assert job.status is JobStatus.FAILED
    assert job.error.startswith("timed out after 1.5 s; its processes were stopped")
    assert alive(pids) == []


async def test_cancel_stops_every_process_of_the_job_within_2_s(make_engine, script):
    argv = script(STUBBORN)
    engine = make_engine(runner=CommandRunner(argv))
    p, subs = project(engine, ["s1", "s2"])
    job = engine.run_stage(p.id, subs[0].id, "work")
    other = engine.run_stage(p.id, subs[1].id, "work")
    pids = pids_in((await wait_for_log(engine, job.id, "pids:")).message)
    other_pids = pids_in((await wait_for_log(engine, other.id, "pids:")).message)
    root = engine.get_job(job.id)
    assert alive(pids) == pids
    engine.cancel(job.id)
    took = await wait_gone(pids, timeout=2.0)
    assert took < 2.0
    assert engine.get_job(job.id).status is JobStatus.CANCELLED
    assert root.status is JobStatus.RUNNING
    assert alive(other_pids) == other_pids
    assert engine.get_job(other.id).status is JobStatus.RUNNING
    engine.cancel(other.id)
    await wait_gone(other_pids, timeout=2.0)


async def test_engine_close_stops_running_jobs_processes(make_engine, script):
    argv = script(STUBBORN)
    engine = make_engine(runner=CommandRunner(argv, grace=0.2))
    p, subs = project(engine, ["s1", "s2"])
    jobs = engine.run_pipeline(p.id)
    pids = []
    for job in jobs:
        pids += pids_in((await wait_for_log(engine, job.id, "pids:")).message)
    start = time.monotonic()
    engine.close()
    assert time.monotonic() - start < 2.0
    assert alive(pids) == []


async def test_processes_left_behind_by_a_finished_command_are_stopped(make_engine, script):
    # a child in its group, and a double-forked daemon (in a session of its own) that ignores
    # SIGTERM
    argv = script(
        """
        import os, signal, subprocess, sys, time
        kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        read_end, write_end = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork():
                os._exit(0)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.write(write_end, str(os.getpid()).encode())
            os.close(write_end)
            time.sleep(600)
            os._exit(0)
        os.close(write_end)
        print("pids:", kid.pid, os.read(read_end, 32).decode(), flush=True)
        """
    )
    engine = make_engine(runner=CommandRunner(argv, grace=0.2))
    job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.COMPLETED
    pids = pids_in(next(e.message for e in logs if e.message.startswith("pids:")))
    assert len(pids) == 2
    assert alive(pids) == []


async def test_resource_use_is_sampled(make_engine, script):
    argv = script(
        """
        import time
        end = time.monotonic() + 2.5
        x = bytearray(50_000_000)
        while time.monotonic() < end:
            pass
        """
    )
    engine = make_engine(runner=CommandRunner(argv))
    job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.COMPLETED
    assert job.peak_memory_rss > 50_000_000
    assert job.peak_cpu_percent > 10  # a busy loop; a loaded machine may give it a share only
    assert len(job.resource_history) >= 1


async def test_the_loop_is_not_blocked_by_a_chatty_command(make_engine, script):
    argv = script(
        """
        for i in range(100_000):
            print(f"line {i} " + "z" * 80)
        """
    )
    engine = make_engine(runner=CommandRunner(argv))
    start = time.monotonic()
    async with LoopLag(engine) as lag:
        job, logs, _ = await run_one(engine)
    took = time.monotonic() - start
    assert job.status is JobStatus.COMPLETED
    assert len([e for e in logs if e.message.startswith("line ")]) == 100_000
    # reading and logging the lines takes seconds: a loop that took them in one go would stall
    # for most of it, one that yielded only now and then would lag most of the time
    assert lag.median < 0.2 and lag.worst < took / 3, (
        f"loop lag median {lag.median:.3f} s, worst {lag.worst:.3f} s in {took:.1f} s"
    )


async def test_a_flood_waits_in_the_pipe_while_the_store_is_behind(make_engine, script):
    """Backpressure: the lines a job printed but the store has not written stay bounded (the rest
    waits in the process's pipe), and every line still lands, in order."""
    argv = script(
        """
        for i in range(200_000):
            print(i)
        """
    )
    engine = make_engine(runner=CommandRunner(argv))
    p, subs = project(engine, ("s1",))
    job = engine.run_stage(p.id, subs[0].id, "work")
    store = engine._store
    backlog = []
    while engine.get_job(job.id).status.is_active:
        backlog.append(engine.call(lambda: store.pending_log_lines(job.id)))
        await asyncio.sleep(0.005)
    [job] = await engine.wait([job], timeout=60)
    assert job.status is JobStatus.COMPLETED
    numbers = [e.message for e in engine.get_logs(job.id) if e.message.isdigit()]
    assert numbers == [str(i) for i in range(200_000)]
    # the reader outpaces the write-behind (a 16 KiB read is ~2,700 of these lines, a write slice
    # 1,000): without the bound the backlog grows towards the whole output
    assert max(backlog) <= LOG_BACKLOG_LINES + 16_384, max(backlog)
    assert max(backlog) > LOG_BACKLOG_LINES // 2, "the flood never outpaced the store: no test"


async def test_output_lines_record_outputs_and_a_bad_one_fails_the_job(make_engine, script, tmp_path):
    argv = script(
        """
        import sys
        print('OUTPUT {"path": "maps/ki.nii.gz", "label": "Ki", "group": "patlak"}')
        print('[OUTPUT] {"kind": "value", "label": "CNR median", "value": 4.2, "unit": "a.u."}')
        print('OUTPUT: {"kind": "qc", "label": "verdict", "value": "pass"}')
        if len(sys.argv) > 1:
            print('OUTPUT {"path": "x.png", "colour": "red"}')
            print('OUTPUT {not json}')
        """
    )
    engine = make_engine(runner=CommandRunner(argv))
    p, (good, bad) = project(engine, [{"name": n, "source_path": str(tmp_path)} for n in ("good", "bad")])
    job = engine.run_stage(p.id, good.id, "work")
    [job] = await engine.wait([job], timeout=30)
    assert job.status is JobStatus.COMPLETED
    assert [(o.kind.value, o.label, o.path, o.value, o.unit) for o in engine.get_outputs(job.id)] == [
        ("map", "Ki", str(tmp_path / "maps/ki.nii.gz"), None, None),
        ("value", "CNR median", None, 4.2, "a.u."),
        ("qc", "verdict", None, "pass", None),
    ]
    engine.runner = CommandRunner([*argv, "bad"])
    job = engine.run_stage(p.id, bad.id, "work")
    [job] = await engine.wait([job], timeout=30)
    assert job.status is JobStatus.FAILED and "['colour']" in job.error
    refused = [e.message for e in engine.get_logs(job.id) if e.message.startswith("output refused")]
    assert len(refused) == 2 and "not valid JSON" in refused[1]
    assert len(engine.get_outputs(job.id)) == 3
