"""Two Python threads on one model: the second waits for the first's long native
work without holding the GIL (the first re-takes the GIL to poll for Ctrl-C), so
neither blocks the other for good."""

import threading

import mixedmodels as mm


def test_getters_from_a_second_thread_during_a_bootstrap():
    m = mm.lmm("Reaction ~ 1 + Days + (1 + Days | Subject)", mm.dataset("sleepstudy"))
    objectives = []
    done = threading.Event()

    def read_while_running():
        while not done.is_set():
            objectives.append(m.objective)

    reader = threading.Thread(target=read_while_running, daemon=True)
    reader.start()
    try:
        boot = mm.parametricbootstrap(m, 300, seed=1, threads=1, progress=False)
    finally:
        done.set()
    reader.join(timeout=60)
    assert not reader.is_alive()
    assert boot.n == 300
    assert len(objectives) > 0
    assert set(objectives) == {m.objective}
