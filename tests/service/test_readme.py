"""The README's Configuration section documents every setting the service reads."""

from __future__ import annotations

from pathlib import Path

from service.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_configuration_table():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Configuration"):]
    missing = [name for name in Settings.model_fields
               if f"| `PRESSLENS_{name.upper()}` |" not in section]
    assert not missing, f"README's Service table lacks {missing}"
