"""`pip install .` into a fresh virtual environment outside the checkout gives a working
`tutor ask` and `tutor chat --plain`: the corpus, prompts, lesson plan and MIG data ship
inside the package.

No network: the wheel is built without isolation, installed without dependencies, and the
new environment borrows the dependencies of the one running the tests through a `.pth`
line (the checkout's own editable install is not on that path).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tutor.engine.plan import load_plan
from tutor.mig.placement import capacity
from tutor.settings import PROJECT_ROOT, Settings

# What a source checkout needs to build: the links in tutor/data/ point at the top folders.
SOURCES = ("pyproject.toml", "README.md", "tutor", "corpus", "prompts", "evals")


def _run(
    args: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, input=stdin, cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{args[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin/` folder of a fresh virtual environment with the wheel installed."""
    root = tmp_path_factory.mktemp("installed")
    source = root / "source"
    source.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        path = PROJECT_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, symlinks=True, ignore=skip)
        else:
            shutil.copy2(path, source / name)
    dist = root / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(source)])
    wheels = list(dist.glob("tutor-*.whl"))
    assert len(wheels) == 1, wheels
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "borrowed-deps.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    _run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheels[0])])
    shutil.rmtree(source)  # nothing may still read the copied checkout
    return venv / "bin"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUTOR_", "PYTHON"))}
    env.update(TUTOR_HOME=str(tmp_path / "home"), TUTOR_EMBED_THREADS="1")
    return env


def test_the_package_carries_its_data(installed: Path, tmp_path: Path) -> None:
    code = (
        "import tutor, json; from tutor.settings import Settings; s = Settings(); "
        "print(json.dumps([tutor.__file__, str(s.corpus_dir), str(s.prompts_dir), "
        "str(s.lesson_plan_file), str(s.evals_dir)]))"
    )
    done = _run([str(installed / "python"), "-c", code], cwd=tmp_path, env=_env(tmp_path))
    paths = [Path(p) for p in json.loads(done.stdout)]
    venv = installed.parent.resolve()
    for path in paths:
        assert venv in path.resolve().parents, f"{path} is not inside the installed package"
        assert path.exists()
    shipped = Settings()
    assert (paths[3].name, load_plan(paths[3]).title) == (
        shipped.lesson_plan_file.name,
        load_plan(shipped.lesson_plan_file).title,
    )
    assert sorted(p.name for p in paths[2].glob("*.md")) == sorted(
        p.name for p in shipped.prompts_dir.glob("*.md")
    )


def test_ask_and_plain_chat_work_from_the_installed_package(
    installed: Path, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    count = capacity("A100-80GB", "1g.10gb").count
    asked = _run(
        [str(installed / "tutor"), "ask", "How many 1g.10gb instances fit on an A100-80GB?",
         "--guess", "4"],
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert f"{count} instances" in asked.stdout and "Sources:" in asked.stdout
    plan = load_plan(Settings().lesson_plan_file)
    first = plan.steps[0]
    right = first.correct_option
    assert right is not None
    chatted = _run(
        [str(installed / "tutor"), "chat", "--plain"],
        stdin=f"{right.key}\n", cwd=tmp_path, env=env,
    )  # fmt: skip
    out = " ".join(chatted.stdout.split())
    assert plan.title in out and " ".join(first.question.split()) in out
    assert " ".join(right.text.split()) in out, "the reveal names the right answer"
