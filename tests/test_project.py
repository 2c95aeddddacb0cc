"""Project files that must agree with each other: pyproject, environment.yml, CI and README."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# conda-forge spells a few packages differently from PyPI.
CONDA_NAMES = {"pytorch": "torch"}


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;@]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in ("dev", "offline"):
        specs += project["optional-dependencies"][extra]
    return {requirement_name(spec) for spec in specs}


def environment_packages() -> set[str]:
    names = set()
    for line in (ROOT / "environment.yml").read_text().splitlines():
        item = re.match(r"^\s*-\s+(?!-e\b)([A-Za-z0-9_.\-\[\]]+)", line)
        if item and item.group(1) not in {"python", "pip", "pip:", "conda-forge"}:
            name = requirement_name(item.group(1))
            names.add(CONDA_NAMES.get(name, name))
    return names


def test_environment_yml_names_the_same_packages_as_pyproject():
    assert environment_packages() == pyproject_packages()


def test_environment_installs_the_course_with_its_extras():
    text = (ROOT / "environment.yml").read_text()
    assert "python=3.11" in text and "-e .[dev,offline,site]" in text


def test_dependencies_have_lower_bounds_and_no_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [
        spec for extra in project["optional-dependencies"].values() for spec in extra
    ]
    for spec in specs:
        assert ">=" in spec and "==" not in spec, spec


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make course" in readme
    assert ci.strip().splitlines()[-1].strip() == "make test"


def test_utils_imports_run_one_way():
    """Each module imports only modules listed before it (the README's layout), so no cycle exists."""
    import ast

    order = ["defaults", "data", "config", "models", "features", "plots", "finetune", "evaluation"]
    order += ["exercises", "editions", "course"]
    modules = sorted(p.stem for p in (ROOT / "utils").glob("*.py") if p.stem != "__init__")
    assert sorted(order) == modules, "a new module needs its place in this order and the README"
    for position, name in enumerate(order):
        tree = ast.parse((ROOT / "utils" / f"{name}.py").read_text())
        imported = {
            node.module or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1
            for alias in node.names
        }
        assert imported <= set(order[:position]), f"utils.{name} imports {imported}"
