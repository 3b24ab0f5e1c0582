"""Process groups: nothing a job started outlives the kernel, even when the kernel is SIGKILLed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap

from runner_helpers import alive, pids_in, wait_gone

from pbrain_widgets.runners.process import ProcessGroup

# A stand-in kernel: starts a job's process group (a process ignoring SIGTERM with a child doing
# the same, and one more that left the group with setsid), reports the pids, and waits.
FAKE_KERNEL = textwrap.dedent(
    """
    import asyncio, sys
    from pbrain_widgets.runners.process import ProcessGroup

    JOB = '''
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    kid = subprocess.Popen([sys.executable, "-c", code])
    print("pids:", kid.pid, flush=True)
    time.sleep(600)
    '''

    async def main():
        group = await ProcessGroup.start([sys.executable, "-c", JOB])
        line = await group.process.stdout.readline()
        print(line.decode().strip(), group.pid, *[p.pid for p in group.members()], flush=True)
        await asyncio.sleep(600)

    asyncio.run(main())
    """
)


async def test_a_sigkilled_kernel_leaves_no_job_process_behind():
    kernel = await asyncio.create_subprocess_exec(
        sys.executable, "-c", FAKE_KERNEL, stdout=asyncio.subprocess.PIPE
    )
    line = (await asyncio.wait_for(kernel.stdout.readline(), 30)).decode()
    pids = sorted(set(pids_in(line)))
    assert len(pids) >= 3 and alive(pids) == pids
    assert all(os.getpgid(pid) != os.getpgid(0) for pid in pids)
    # their own group, not their own session: a session is a CFS scheduling group of its own
    assert all(os.getsid(pid) == os.getsid(0) for pid in pids)
    kernel.send_signal(signal.SIGKILL)
    await kernel.wait()
    assert await wait_gone(pids, timeout=2.0) < 2.0


async def test_stop_of_a_group_that_already_ended_returns_at_once():
    group = await ProcessGroup.start([sys.executable, "-c", "print('hi')"])
    assert await group.wait_exit() == 0
    assert (await group.process.stdout.read()).strip() == b"hi"
    assert await group.stop() is True
    group.release()
    assert group.members() == []


async def test_a_group_whose_guard_was_killed_is_still_stopped_by_the_kernel():
    job = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    group = await ProcessGroup.start([sys.executable, "-c", job])
    while len(members := group.members()) < 2:  # the guard and the program
        await asyncio.sleep(0.01)
    program = [p.pid for p in members if p.pid != group.pid]
    os.kill(group.pid, signal.SIGKILL)  # the guard can no longer take its tree down
    assert await group.wait_exit() == -signal.SIGKILL
    assert alive(program) == program
    assert await group.stop(grace=0.2) is True
    group.release()
    assert alive(program) == []
