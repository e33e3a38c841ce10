"""One source -> its files for the people wanted: one take (STEM.*) following one person, or one
take per person (STEM_pN.*, STEM_people.json, all one set of files); shared by `monocap process`,
`monocap batch` and the batch runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.animation.formats import ExportOptions
from engine.core.atomic import file_set
from engine.core.take import Take
from engine.session.outputs import write_outputs
from engine.session.people_takes import write_people_outputs
from engine.session.session import Session


@dataclass(frozen=True)
class SourceFiles:
    written: list[Path]
    takes: list[Take]  # the one take, or each person's by number
    summary: str  # for the user: frames and whom


def process_to_files(session: Session, wanted: int | None, out_dir: str | Path, stem: str, formats: tuple[str, ...],
                     settings: dict | None = None, options: ExportOptions | None = None,
                     notes: list[str] | None = None) -> SourceFiles:
    """wanted: 1 for one take (config.person, or the lock-on rule's pick), N for the N best by
    the rule, None for everyone. notes: where write_outputs says what it skipped (else a warning)."""
    if wanted == 1:
        take = session.process()
        written = write_outputs(take, out_dir, stem, formats, settings=settings, options=options, notes=notes)
        person = take.metadata.get("person", {})
        found = person.get("people_found", 1)
        who = f", person {person['number']} of {found}" if found > 1 else ""
        return SourceFiles(written, [take], f"{take.num_frames} frames ({int(take.valid.sum())} with the person{who})")
    people = session.process_people(wanted)
    with file_set(out_dir, stem):  # everyone's files and STEM_people.json appear together
        written = write_people_outputs(people, out_dir, stem, formats, settings=settings, options=options,
                                       notes=notes)
    spans = ", ".join(f"p{p.number}: frames {p.first_frame}-{p.first_frame + p.take.num_frames - 1}" for p in people)
    return SourceFiles(written, [p.take for p in people],
                       f"{len(people)} {'person' if len(people) == 1 else 'people'} ({spans})")
