"""Project and subject names: only what is safe as a folder name and a log line is accepted."""

from __future__ import annotations

import pytest

from pbrain_widgets import InvalidArgumentError

SURROGATE = b"sub-\xff".decode("utf-8", "surrogateescape")


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("a/b", r"'/' \(U\+002F\) at position 1"),
        ("a\\b", r"'\\\\' \(U\+005C\) at position 1"),
        ("..", r"'\.\.' is not allowed"),
        (".", r"'\.' is not allowed"),
        ("sub\x00", r"'\\x00' \(U\+0000\)"),
        ("sub\n01\tINFO\tforged", r"'\\n' \(U\+000A\) at position 3"),
        ("sub\u2028x", r"U\+2028"),
        ("sub\x1bx", r"U\+001B"),
        ("-rf", r"starts with '-'"),
        (SURROGATE, r"'\\udcff' \(U\+DCFF\) at position 4"),
        ("x" * 256, r"too long"),
    ],
)
def test_unsafe_names_are_refused_naming_the_character(engine, name, says):
    with pytest.raises(InvalidArgumentError, match=f"project name .*{says}.*one folder name"):
        engine.create_project(name)
    project = engine.create_project("study")
    with pytest.raises(InvalidArgumentError, match=f"subject name .*{says}"):
        engine.add_subjects(project.id, ["fine", name])
    with pytest.raises(InvalidArgumentError, match=f"subject name .*{says}"):
        engine.add_subjects(project.id, [{"name": name}])
    assert engine.get_subjects(project.id) == []  # all or nothing
    assert [p.name for p in engine.get_projects()] == ["study"]


def test_ordinary_names_pass(engine):
    project = engine.create_project("DCE study (2024) é")
    names = ["sub-01", "patient 7", "ñandú_03", "a.b", "x" * 255, "  padded  "]
    subjects = engine.add_subjects(project.id, names)
    assert [s.name for s in subjects] == [*names[:-1], "padded"]


@pytest.mark.parametrize(
    ("subjects", "says"),
    [
        ([None], r"a subject must be a name or a mapping with a 'name', got None"),
        (5, r"subjects must be a list of names or mappings with a 'name', got 5"),
        ([{"name": None}], r"a subject name must be a non-empty string, got None"),
        ([{"name": "s", "has_t1": "no"}], r"has_t1 of subject 's' must be True or False, got 'no'"),
        ([{"name": "s", "has_dce": 1}], r"has_dce of subject 's' must be True or False, got 1"),
        ([{"name": "s", "source_path": 3}], r"source_path of subject 's' must be a folder path, got 3"),
        ([{"name": "s", 7: "x"}], r"unknown subject field\(s\) 7; valid fields"),
    ],
)
def test_malformed_subjects_raise_invalid_argument(engine, subjects, says):
    project = engine.create_project("study")
    with pytest.raises(InvalidArgumentError, match=says):
        engine.add_subjects(project.id, ["ok", *subjects] if isinstance(subjects, list) else subjects)
    assert engine.get_subjects(project.id) == []
