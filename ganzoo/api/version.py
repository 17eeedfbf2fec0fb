"""The plugin API's version, and which versions a plugin may target.

A plugin declares the version it was written against as a module attribute,
``ganzoo_plugin_api = "2.0"``. It is accepted when its major version equals
the core's and its minor version is not newer (a minor release only adds);
docs/changelog.md says what changed between versions.
"""

from __future__ import annotations

import re

CORE_VERSION = "0.2.7"  # ganzoo-core's version, as pyproject.toml says; ganzoo.__version__
PLUGIN_API = "2.3"  # 2.3: ganzoo.list and ganzoo.generate; 2.2: the references of GAN, objective, ... specs
DECLARATION = "ganzoo_plugin_api"
# The first ganzoo-core release providing each plugin API version: a plugin written for one needs that core or a
# later one of the same major series (docs/changelog.md); ganzoo plugin new and the docs take their pin from here
FIRST_CORE = {"2.0": "0.2.0", "2.1": "0.2.2", "2.2": "0.2.6", "2.3": "0.2.7"}
_FORM = re.compile(r"(\d+)\.(\d+)")


def incompatibility(declared: object, core_version: str) -> str | None:
    """Why a plugin declaring ``declared`` cannot load into this core (None if it can)."""
    provided = f"ganzoo-core {core_version} provides plugin API {PLUGIN_API}"
    if declared is None:
        return (f"declares no plugin API version (a plugin for ganzoo 0.1); {provided}: upgrade the plugin, or, as "
                f"its author, add {DECLARATION} = \"{PLUGIN_API}\" to its module (see docs/changelog.md)")
    match = _FORM.fullmatch(declared) if isinstance(declared, str) else None
    if match is None:
        return (f"declares {DECLARATION} = {declared!r}, which is not of the form \"MAJOR.MINOR\" "
                f"(e.g. \"{PLUGIN_API}\")")
    major, minor = (int(part) for part in match.groups())
    core_major, core_minor = (int(part) for part in PLUGIN_API.split("."))
    if major != core_major or minor > core_minor:
        advice = "upgrade ganzoo-core" if (major, minor) > (core_major, core_minor) else "upgrade the plugin"
        return f"targets plugin API {declared}, but {provided}; {advice} (see docs/changelog.md)"
    return None


def core_requirement(api: str = PLUGIN_API) -> str:
    """The dependency a plugin written for plugin API ``api`` declares, e.g. ``ganzoo-core>=0.2.6,<0.3``."""
    first = FIRST_CORE[api]
    major, minor, _ = first.split(".")
    return f"ganzoo-core>={first},<{major}.{int(minor) + 1}"
