"""A real Dask cluster for the distributed tests: scheduler and two single-threaded workers
as separate processes on 127.0.0.1, always torn down (even when a test fails)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="package")
def cluster(tmp_path_factory, request):
    pytest.importorskip("distributed")
    from holterlab.distributed.cluster import ProcessCluster

    c = ProcessCluster(
        2,
        nthreads=1,
        directory=tmp_path_factory.mktemp("dask-cluster"),
        env={"PYTHONPATH": str(REPO)},
        idle_timeout_s=300,
        death_timeout_s=20,
    )
    request.addfinalizer(c.close)
    c.start()
    return c


@pytest.fixture
def two_workers(cluster):
    """The cluster, with two live workers (replacing any a previous test killed)."""
    while len(cluster.alive_workers()) < 2:
        cluster.add_worker(wait=False)
    cluster.settle()
    return cluster
