"""The command line with a setting it cannot use: one line naming the variable, exit 2, no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from motcua.settings import PROJECT_ROOT


def test_a_bad_setting_stops_the_command_with_one_line_naming_the_variable(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update(MOTCUA_DATA_DIR=str(tmp_path / "instance"), MOTCUA_MAX_UPLOAD_MB="lots")
    result = subprocess.run([sys.executable, "-m", "motcua.cli", "procedures", "list"], env=env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == "motcua: MOTCUA_MAX_UPLOAD_MB: not a number: 'lots'"
    assert "Traceback" not in result.stderr and result.stdout == ""
