import os
import stat

import pytest

from thresher.data.atomic import write_atomic


def test_atomic_write_replaces_whole_and_uses_normal_permissions(tmp_path):
    target = tmp_path / "policy.yaml"
    target.write_text("old")
    write_atomic(target, "new")
    assert target.read_text() == "new"
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["policy.yaml"]


def test_a_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "runs.yaml"
    target.write_text("precious")
    with pytest.raises(TypeError):
        write_atomic(target, None)  # not text: fails before the rename
    assert target.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["runs.yaml"]
