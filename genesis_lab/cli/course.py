"""``genesis-lab course create|list|enroll|assign|deliver|progress``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genesis_lab.cli._output import add_json_flag, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("course", help="courses: a hub group, notebooks and enrolled learners")
    csub = p.add_subparsers(dest="course_command", metavar="ACTION")
    csub.required = True

    cr = csub.add_parser("create", help="create a course (storage, group, hub group)")
    cr.add_argument("name", help="lowercase letters, digits and '-'")
    cr.add_argument("--title", default="", help="human title")
    cr.add_argument("--allocation", help="training allocation the course's sessions charge")
    cr.add_argument(
        "--cap-core-hours", type=float, help="core-hours each learner may charge (per learner cap)"
    )
    cr.add_argument(
        "--unix-group", action="store_true", help="create a Unix group course-NAME (as root)"
    )
    cr.add_argument("--educator", action="append", default=[], help="educator user (repeatable)")
    add_json_flag(cr)
    cr.set_defaults(func=_create)

    ls = csub.add_parser("list", help="every course")
    add_json_flag(ls)
    ls.set_defaults(func=_list)

    en = csub.add_parser("enroll", help="enroll learners")
    en.add_argument("name")
    en.add_argument("users", nargs="+", help="user names")
    add_json_flag(en)
    en.set_defaults(func=_enroll)

    asg = csub.add_parser(
        "assign", help="assign notebooks (delivered at each learner's next start)"
    )
    asg.add_argument("name")
    asg.add_argument("notebooks", nargs="+", type=Path, help=".ipynb files")
    add_json_flag(asg)
    asg.set_defaults(func=_assign)

    dl = csub.add_parser("deliver", help="copy assigned notebooks into a learner's home now")
    dl.add_argument("user")
    dl.add_argument("--home", type=Path, required=True, help="the learner's home folder")
    add_json_flag(dl)
    dl.set_defaults(func=_deliver)

    pr = csub.add_parser("progress", help="per learner and exercise: do the checks pass?")
    pr.add_argument("name")
    add_json_flag(pr)
    pr.set_defaults(func=_progress)


def _show(course, as_json: bool) -> None:
    if as_json:
        print_json(course.model_dump())
    else:
        print(
            f"{course.name}: {len(course.learners)} learners, {len(course.notebooks)} notebooks, "
            f"group {course.group}"
        )


def _create(args: argparse.Namespace) -> int:
    from genesis_lab.training.courses import create_course

    course = create_course(
        args.name,
        title=args.title,
        allocation=args.allocation,
        cap_core_hours_per_learner=args.cap_core_hours,
        unix_group=args.unix_group,
        educators=args.educator,
    )
    _show(course, args.json)
    return 0


def _list(args: argparse.Namespace) -> int:
    from genesis_lab.training.courses import list_courses

    courses = list_courses()
    if args.json:
        print_json([c.model_dump() for c in courses])
    else:
        rows = [
            (c.name, c.title, len(c.learners), len(c.notebooks), c.allocation or "-")
            for c in courses
        ]
        print_table(rows, ("NAME", "TITLE", "LEARNERS", "NOTEBOOKS", "ALLOCATION"))
    return 0


def _enroll(args: argparse.Namespace) -> int:
    from genesis_lab.training.courses import enroll, not_in_allocation

    course = enroll(args.name, args.users)
    _show(course, args.json)
    missing = not_in_allocation(course)
    if missing:
        print(
            f"warning: not members of allocation {course.allocation!r}: {', '.join(missing)}; "
            "add them to its members in the site file, or their sessions will be refused",
            file=sys.stderr,
        )
    return 0


def _assign(args: argparse.Namespace) -> int:
    from genesis_lab.training.courses import assign

    _show(assign(args.name, args.notebooks), args.json)
    return 0


def _deliver(args: argparse.Namespace) -> int:
    from genesis_lab.training.courses import deliver_assignments

    paths = deliver_assignments(args.user, args.home)
    if args.json:
        print_json([str(p) for p in paths])
    else:
        for p in paths:
            print(p)
    return 0


def _progress(args: argparse.Namespace) -> int:
    from genesis_lab.training.courses import progress

    rows = progress(args.name)
    if args.json:
        print_json(rows)
        return 0
    print_table(
        [
            (r["learner"], r["notebook"], r["exercise"], r["status"], r["message"][:60])
            for r in rows
        ],
        ("LEARNER", "NOTEBOOK", "EXERCISE", "STATUS", "MESSAGE"),
    )
    return 0
