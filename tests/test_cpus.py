"""CPUs available to the process: affinity and cgroup quota."""

from garble.cpus import _cgroup_quota, available_cpus, torch_threads


def _v2(tmp_path, text):
    (tmp_path / "cpu.max").write_text(text)
    return tmp_path


def test_cgroup_v2_quota_caps_the_count(tmp_path, monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(64)))
    assert available_cpus(_v2(tmp_path, "150000 100000\n")) == 2  # 1.5 CPUs: two threads
    assert _cgroup_quota(tmp_path) == 1.5


def test_no_quota_means_the_affinity_mask(tmp_path, monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 3, 5})
    assert available_cpus(_v2(tmp_path, "max 100000\n")) == 3
    assert available_cpus(tmp_path / "nothing-here") == 3


def test_cgroup_v1_quota(tmp_path, monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(16)))
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("400000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert available_cpus(tmp_path) == 4
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")  # v1's "no limit"
    assert available_cpus(tmp_path) == 16


def test_torch_threads_lowers_but_never_raises_and_leaves_a_user_choice(monkeypatch):
    class FakeTorch:
        def __init__(self, n):
            self.n = n

        def get_num_threads(self):
            return self.n

        def set_num_threads(self, n):
            self.n = n

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setattr("garble.cpus.available_cpus", lambda: 2)
    t = FakeTorch(64)
    torch_threads(t)
    assert t.n == 2
    t = FakeTorch(1)
    torch_threads(t)
    assert t.n == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    t = FakeTorch(64)
    torch_threads(t)
    assert t.n == 64
