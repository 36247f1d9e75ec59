"""Files no person means to write — self-containing aliases, nesting 10,000 deep, alias bombs,
NUL characters, dates that do not exist, 5,000-digit numbers, bytes that are not UTF-8 — are
refused in one sentence naming the file and line, quickly, never with a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_bot.bot.runtime.pipelines_config import PipelinesFileError
from release_bot.bot.runtime.pipelines_file import load_pipelines, parse_pipelines
from tests.support.cli_support import Cli

HEAD = "pipelines:\n  p:\n    phases:\n      - name: Staging\n        environments: [staging]\n"
NAME_RULE = ("write up to 63 letters, digits, '.', '_' or '-', starting with a letter or digit, "
             "such as production")


def _alias_bomb() -> str:
    """Six anchors, each a list of ten aliases of the one before: a million values."""
    text = "x: &a [" + ", ".join(["y"] * 10) + "]\n"
    for before, name in zip("abcde", "bcdef", strict=True):
        text += f"{name}: &{name} [" + ", ".join([f"*{before}"] * 10) + "]\n"
    return text


# (file text, the message after `f.yml:`)
ODD = {
    "alias-inside-itself": (
        "pipelines:\n  p: &p\n    phases: [*p]\n",
        "3: the alias *p is inside the very place it names (&p), so it would never end: point "
        "it at an anchor outside it",
    ),
    "flow-10000-deep": (
        HEAD + "        match: {k: " + "[" * 10_000 + "]" * 10_000 + "}\n",
        "6: nested more than 32 levels deep; a pipelines file needs a few levels — flatten it",
    ),
    "block-40-deep": (
        HEAD + "        match:\n" + "".join(" " * (10 + i) + "-\n" for i in range(40)),
        "34: nested more than 32 levels deep; a pipelines file needs a few levels — flatten it",
    ),
    "alias-bomb": (
        _alias_bomb(),
        "5: the file holds more than 100,000 values once its aliases are expanded; write each "
        "pipeline out instead of aliases of aliases",
    ),
    "nul-in-a-name": (
        HEAD.replace("Staging", '"Stag\\0ing"'),
        "4: pipeline 'p', phase 1 ('Stag\\x00ing'), name: 'Stag\\x00ing' is not usable as a "
        "name: write up to 60 printable characters on one line, without spaces around them",
    ),
    "lone-surrogate": (
        HEAD.replace("[staging]", '["stag\\ud800"]'),
        "5: pipeline 'p', phase 1 ('Staging'), environments, 0: 'stag\\ud800' is not usable as "
        f"a name here: {NAME_RULE}",
    ),
    "no-such-date": (
        HEAD + "        bake: 2024-13-45\n",
        "6: not valid YAML: '2024-13-45' cannot be read: month must be in 1..12",
    ),
    "5000-digits": (
        HEAD + "        approval: {required: " + "9" * 5000 + "}\n",
        "6: not valid YAML: '" + "9" * 39 + "…' cannot be read: Exceeds the limit (4300 "
        "digits) for integer string conversion: value has 5000 d…",
    ),
    "list-as-a-key": ("? [a, b]\n: x\n", "1: not valid YAML: found unhashable key"),
    "raw-nul": (
        HEAD + "        bake: 1\x00s\n",
        "6: not valid YAML: unacceptable character #x0000: special characters are not allowed",
    ),
    "unknown-alias": (HEAD + "        bake: *nope\n",
                      "6: not valid YAML: found undefined alias 'nope'"),
    "two-documents": (
        HEAD + "---\n" + HEAD,
        "6: not valid YAML: expected a single document in the stream, but found another document",
    ),
    "python-tag": (
        HEAD + "        bake: !!python/object/apply:os.system [ls]\n",
        "6: not valid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'",
    ),
    "long-environment": (
        HEAD.replace("[staging]", "[" + "x" * 10_000 + "]"),
        "5: pipeline 'p', phase 1 ('Staging'), environments, 0: '" + "x" * 59 + "…' is not "
        f"usable as a name here: {NAME_RULE}",
    ),
    "number-as-pipeline-name": (
        "pipelines:\n  1:\n    phases: [{name: A, environments: [a]}]\n",
        "2: pipeline 1: 1 is not text: write text, quoted if it looks like a number, a date or "
        "true/false",
    ),
}


@pytest.mark.parametrize("case", list(ODD), ids=list(ODD))
def test_an_odd_file_is_one_sentence_with_its_line(case: str) -> None:
    text, message = ODD[case]
    with pytest.raises(PipelinesFileError) as refused:
        parse_pipelines(text, "f.yml")
    assert str(refused.value) == f"f.yml:{message}"


def test_many_problems_show_the_first_twenty_and_a_count() -> None:
    text = HEAD.replace("[staging]", "[" + ", ".join(["''"] * 100) + "]")
    with pytest.raises(PipelinesFileError) as refused:
        parse_pipelines(text, "f.yml")
    lines = str(refused.value).splitlines()
    assert len(lines) == 21
    assert lines[0].startswith("f.yml:5: pipeline 'p', phase 1 ('Staging'), environments, 0: ")
    assert lines[-1] == "f.yml: … and 80 more problems"


def test_aliases_and_merge_keys_still_share_settings() -> None:
    config = parse_pipelines(
        "pipelines:\n"
        "  a:\n"
        "    permissions: &who {skip: [U0MGR]}\n"
        "    phases:\n"
        "      - &staging {name: Staging, environments: [staging], bake: 1s}\n"
        "  b:\n"
        "    permissions: *who\n"
        "    phases:\n"
        "      - <<: *staging\n"
        "        bake: 0s\n",
        "f.yml",
    )
    b = config.pipelines["b"]
    assert [(p.name, p.environments, p.bake.total_seconds()) for p in b.phases] == [
        ("Staging", ("staging",), 0.0)
    ]
    assert config.pipelines["a"].permissions == b.permissions


def test_a_file_that_is_not_utf8_or_too_large(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yml"
    latin.write_bytes(b"pipelines:\n  caf\xe9:\n")
    with pytest.raises(PipelinesFileError) as refused:
        load_pipelines(latin)
    assert str(refused.value) == f"{latin}:2: not UTF-8 text (byte 0xe9): save the file as UTF-8"
    huge = tmp_path / "huge.yml"
    huge.write_text(HEAD + ("# " + "x" * 1000 + "\n") * 1100)
    cli = Cli(None, huge)
    assert cli.fail("pipelines", "check", code=2) == (
        f"{huge}: the file is larger than 1 MiB, far more than pipelines need; is it the right "
        "file?"
    )
