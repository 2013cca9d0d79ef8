"""Executors: blocks of responses (``lmm_many``) and of bootstrap replicates run on a
process pool or a Dask cluster equal the local run bit for bit (replicate k draws from
the stream of (seed, k) and every fit depends only on its own input)."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

import mixedmodels as mm

FORMULA = "Reaction ~ 1 + Days + (1 + Days | Subject)"


@pytest.fixture(scope="module")
def model():
    return mm.lmm(FORMULA, mm.dataset("sleepstudy"))


@pytest.fixture(scope="module")
def local(model):
    return mm.parametricbootstrap(model, 24, seed=7, progress=False)


def test_bootstrap_on_threads_equals_local(model, local):
    with ThreadPoolExecutor(3) as pool:
        b = mm.parametricbootstrap(model, 24, seed=7, progress=False, executor=pool)
    assert b.table.equals(local.table)
    assert b.confint().equals(local.confint())


def test_process_pool_equals_local(model, local):
    d = mm.dataset("sleepstudy")
    d = d.with_columns(r2=d["Reaction"] * 1.1 + d["Days"] ** 2)
    many = mm.lmm_many(FORMULA, d, ["Reaction", "r2"] * 3)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        b = mm.parametricbootstrap(model, 24, seed=7, progress=False, executor=pool)
        remote = mm.lmm_many(FORMULA, d, ["Reaction", "r2"] * 3, executor=pool)
    assert b.table.equals(local.table)
    assert remote.equals(many)


def test_bootstrap_on_a_dask_cluster_equals_local(model, local):
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        b = mm.parametricbootstrap(model, 24, seed=7, progress=False, executor=client)
    assert b.table.equals(local.table)


def test_bad_executor_is_refused(model):
    with pytest.raises(mm.ArgumentTypeError) as e:
        mm.parametricbootstrap(model, 4, seed=1, progress=False, executor=object())
    assert e.value.parameter == "executor"
    with ThreadPoolExecutor(1) as pool, pytest.raises(mm.ArgumentTypeError) as e:
        mm.parametricbootstrap(model, 4, seed=1, progress=False, executor=pool, threads=2)
    assert e.value.parameter == "threads"
