"""The status engine as a pure function: the ladder and its edge cases (DOMAIN.md §1)."""

from datetime import date

import pytest

from tracker.normalize.actions import classify_dated
from tracker.normalize.status import StatusAction, derive_status
from tracker.vocab import BillKind, BillStatus, Chamber, EnactedHow, FailedHow

L, U, G = Chamber.LOWER, Chamber.UPPER, Chamber.EXECUTIVE
TODAY = date(2026, 8, 1)


def act(day: int, *classes: str, actor=L, **facts) -> StatusAction:
    return StatusAction(date(2024, 1, 1).replace(day=day), tuple(classes), actor, facts)


def derive(*actions, **kwargs):
    kwargs.setdefault("origin_chamber", L)
    kwargs.setdefault("as_of", TODAY)
    return derive_status(actions, **kwargs)


def test_a_bill_with_no_actions_is_introduced_by_default():
    result = derive()
    assert (result.status, result.basis, result.status_date) == (BillStatus.INTRODUCED, "default", None)


@pytest.mark.parametrize("steps, expected", [
    ([("filing",)], BillStatus.INTRODUCED),
    ([("introduction", "reading-1")], BillStatus.INTRODUCED),
    ([("introduction",), ("referral-committee",)], BillStatus.IN_COMMITTEE),
    ([("referral-committee",), ("committee-passage-favorable",)], BillStatus.PASSED_COMMITTEE),
    ([("referral-committee",), ("committee-passage-unfavorable",)], BillStatus.IN_COMMITTEE),  # not a pass
])
def test_early_rungs(steps, expected):
    assert derive(*[act(i + 1, *classes) for i, classes in enumerate(steps)]).status == expected


def test_ladder_climbs_through_both_chambers_to_governor():
    result = derive(act(1, "introduction"), act(2, "referral-committee"), act(3, "committee-passage-favorable"),
                    act(4, "passage"), act(5, "referral-committee", actor=U), act(6, "passage", actor=U),
                    act(7, "enrolled"))
    assert (result.status, result.status_date) == (BillStatus.TO_GOVERNOR, date(2024, 1, 7))


def test_second_chamber_referral_does_not_undo_origin_passage():
    result = derive(act(1, "introduction"), act(2, "passage"), act(3, "referral-committee", actor=U))
    assert result.status == BillStatus.PASSED_ORIGIN
    assert result.status_date == date(2024, 1, 2)


def test_passage_by_other_chamber_is_passed_second():
    assert derive(act(1, "passage"), act(2, "passage", actor=U)).status == BillStatus.PASSED_SECOND


def test_unicameral_passage_skips_to_passed_second():
    result = derive(act(1, "passage", actor=Chamber.LEGISLATURE), unicameral=True)
    assert result.status == BillStatus.PASSED_SECOND


def test_signed():
    result = derive(act(1, "passage"), act(2, "passage", actor=U), act(3, "executive-receipt", actor=G),
                    act(4, "executive-signature", "became-law", actor=G, chapter="678"))
    assert (result.status, result.enacted_how, result.chapter) == (BillStatus.ENACTED, EnactedHow.SIGNED, "678")


def test_became_law_without_signature():
    result = derive(act(1, "executive-receipt", actor=G), act(2, "x-law-without-signature", "became-law", actor=G))
    assert (result.status, result.enacted_how) == (BillStatus.ENACTED, EnactedHow.LAW_WITHOUT_SIGNATURE)


def test_chaptered_without_signature_seen():
    result = derive(act(1, "executive-receipt", actor=G), act(2, "became-law", actor=G))
    assert (result.status, result.enacted_how) == (BillStatus.ENACTED, EnactedHow.CHAPTERED)


def test_veto_keeps_override_possible_until_sustained():
    vetoed = derive(act(1, "executive-receipt", actor=G), act(2, "executive-veto", actor=G))
    assert (vetoed.status, vetoed.override_possible) == (BillStatus.VETOED, True)
    sustained = derive(act(1, "executive-receipt", actor=G), act(2, "executive-veto", actor=G),
                       act(3, "veto-override-failure"))
    assert (sustained.status, sustained.override_possible) == (BillStatus.VETOED, False)
    assert sustained.status_date == date(2024, 1, 3)


def test_veto_pending_is_not_final():
    result = derive(act(1, "executive-veto", actor=G), act(2, "x-veto-pending", actor=U))
    assert (result.status, result.override_possible) == (BillStatus.VETOED, True)


def test_veto_overridden_by_both_chambers():
    result = derive(act(1, "executive-veto", actor=G), act(2, "veto-override-passage"),
                    act(3, "veto-override-passage", actor=U))
    assert (result.status, result.enacted_how) == (BillStatus.ENACTED, EnactedHow.VETO_OVERRIDDEN)


def test_one_chambers_override_vote_is_not_enactment():
    # Review row H3: VA HB 747 "House overrode Governor's veto" alone, then the Senate sustains.
    vetoed = derive(act(1, "executive-veto", actor=G), act(2, "veto-override-passage"))
    assert (vetoed.status, vetoed.override_possible) == (BillStatus.VETOED, True)
    sustained = derive(act(1, "executive-veto", actor=G), act(2, "veto-override-passage"),
                       act(2, "veto-override-failure", actor=U))
    assert (sustained.status, sustained.override_possible) == (BillStatus.VETOED, False)


def test_a_completed_override_statement_enacts():
    result = derive(act(1, "executive-veto", actor=G), act(2, "veto-override-passage", "x-override-complete",
                                                           actor=None))
    assert (result.status, result.enacted_how) == (BillStatus.ENACTED, EnactedHow.VETO_OVERRIDDEN)


def test_partial_veto_with_signature_is_enacted_with_flag():
    result = derive(act(1, "executive-signature", "executive-veto-line-item", actor=G))
    assert (result.status, result.partial_veto) == (BillStatus.ENACTED, True)


@pytest.mark.parametrize("cls, how", [
    ("committee-failure", FailedHow.DIED_IN_COMMITTEE),
    ("failure", FailedHow.DEFEATED),
    ("withdrawal", FailedHow.WITHDRAWN),
    ("x-tabled", FailedHow.TABLED),
    ("x-died-adjournment", FailedHow.DIED_AT_ADJOURNMENT),
])
def test_failures(cls, how):
    result = derive(act(1, "introduction"), act(2, "referral-committee"), act(3, cls))
    assert (result.status, result.failed_how, result.status_date) == (BillStatus.FAILED, how, date(2024, 1, 3))


def test_incorporated_records_the_other_bill():
    result = derive(act(1, "referral-committee"), act(2, "x-incorporated", into="SB487"))
    assert (result.status, result.failed_how, result.incorporated_into) == (
        BillStatus.FAILED, FailedHow.INCORPORATED, "SB487")


def test_reconsidered_defeat_that_then_passes_is_alive_again():
    result = derive(act(1, "failure"), act(2, "passage"))
    assert result.status == BillStatus.PASSED_ORIGIN


def test_referral_alone_does_not_revive_a_dead_bill():
    assert derive(act(1, "committee-failure"), act(2, "referral-committee")).status == BillStatus.FAILED


def test_continued_to_next_session_sets_flag_and_survives_adjournment():
    result = derive(act(1, "referral-committee"), act(2, "x-carried-over"), session_ended=date(2024, 5, 17))
    assert (result.status, result.carried_over) == (BillStatus.IN_COMMITTEE, True)


def test_carried_over_flag_clears_when_the_bill_acts_again():
    result = derive(act(1, "referral-committee"), act(2, "x-carried-over"), act(3, "committee-passage"))
    assert (result.status, result.carried_over) == (BillStatus.PASSED_COMMITTEE, False)


def test_pending_bill_dies_at_adjournment_once_the_session_is_over():
    result = derive(act(1, "referral-committee"), session_ended=date(2024, 5, 17))
    assert (result.status, result.failed_how, result.status_date) == (
        BillStatus.FAILED, FailedHow.DIED_AT_ADJOURNMENT, date(2024, 5, 17))


def test_no_death_while_the_session_is_still_open():
    result = derive(act(1, "referral-committee"), session_ended=date(2024, 5, 17), as_of=date(2024, 3, 1))
    assert result.status == BillStatus.IN_COMMITTEE


def test_veto_override_window_closes_with_the_session():
    result = derive(act(1, "executive-veto", actor=G), session_ended=date(2024, 5, 17))
    assert (result.status, result.override_possible) == (BillStatus.VETOED, False)


def test_ny_return_to_origin_moves_status_backwards():
    result = derive(act(1, "referral-committee", actor=U), act(2, "passage", actor=U),
                    act(3, "referral-committee", actor=L), act(4, "x-returned-to-origin", actor=U),
                    origin_chamber=U)
    assert result.status == BillStatus.IN_COMMITTEE
    assert result.status_date == date(2024, 1, 4)


@pytest.mark.parametrize("kind, actions, expected", [
    (BillKind.RESOLUTION, [("passage", L)], BillStatus.ADOPTED),
    (BillKind.JOINT_RESOLUTION, [("passage", L)], BillStatus.PASSED_ORIGIN),
    (BillKind.JOINT_RESOLUTION, [("passage", L), ("passage", U)], BillStatus.ADOPTED),
])
def test_resolutions_are_adopted_without_a_governor(kind, actions, expected):
    result = derive(*[act(i + 1, cls, actor=actor) for i, (cls, actor) in enumerate(actions)], kind=kind)
    assert result.status == expected


def test_future_dated_action_never_moves_status():
    fetched = date(2024, 1, 5)
    texts = [(date(2024, 1, 2), "Referred to Committee on Rules"), (date(2024, 1, 20), "Approved by Governor")]
    actions = [StatusAction(day, classify_dated("va", text, day, fetched).classes, G) for day, text in texts]
    assert "x-scheduled" in actions[1].classes
    result = derive(*actions, as_of=fetched)
    assert (result.status, result.status_date) == (BillStatus.IN_COMMITTEE, date(2024, 1, 2))


def test_bill_before_the_governor_at_adjournment_is_not_declared_dead():
    result = derive(act(1, "passage"), act(2, "passage", actor=U), act(3, "executive-receipt", actor=G),
                    session_ended=date(2024, 5, 17))
    assert result.status == BillStatus.TO_GOVERNOR


# --- Issue #8/#9 engine rules ------------------------------------------------------------------------

def test_a_resolution_the_governor_signs_is_a_law_only_with_a_session_law_number():
    steps = [act(1, "passage"), act(2, "passage", actor=U), act(3, "executive-receipt", actor=G)]
    honorary = derive(*steps, act(4, "executive-signature", actor=G), kind=BillKind.JOINT_RESOLUTION)
    assert (honorary.status, honorary.enacted_how) == (BillStatus.ADOPTED, None)  # TN "Signed by Governor."
    law = derive(*steps, act(4, "executive-signature", actor=G, chapter="P.L.2026, JR-3"),
                 kind=BillKind.JOINT_RESOLUTION)  # NJ "Approved P.L.2026, JR-3."
    assert (law.status, law.enacted_how, law.chapter) == (BillStatus.ENACTED, EnactedHow.SIGNED, "P.L.2026, JR-3")
    # Signed and transmitted on one day, in either order: still adopted, never back before the Governor.
    same_day = derive(act(1, "passage"), act(2, "passage", actor=U), act(3, "executive-signature", actor=G),
                      act(3, "executive-receipt", actor=G), kind=BillKind.JOINT_RESOLUTION)
    assert same_day.status == BillStatus.ADOPTED


def test_a_federal_joint_resolution_goes_to_the_president_like_a_bill():
    # Review row H5, with the real us.toml wording (../shared/review-2026-12/engine_cases.py).
    rows = [("2025-02-01", "Introduced in House", L),
            ("2025-02-10", "Passed/agreed to in House: On passage Passed by recorded vote: 220 - 210.", L),
            ("2025-03-01", "Passed/agreed to in Senate: Passed Senate without amendment by Yea-Nay Vote. 52 - 47.", U),
            ("2025-03-05", "Presented to President.", G), ("2025-03-14", "Signed by President.", G)]
    seen = []
    for n in range(2, len(rows) + 1):
        actions = [StatusAction(date.fromisoformat(d), classify_dated("us", t, date.fromisoformat(d), TODAY).classes,
                                o) for d, t, o in rows[:n]]
        seen.append(derive_status(actions, kind=BillKind.JOINT_RESOLUTION, origin_chamber=L, as_of=TODAY,
                                  executive_resolutions=True).status)
    assert seen == [BillStatus.PASSED_ORIGIN, BillStatus.PASSED_SECOND, BillStatus.TO_GOVERNOR, BillStatus.ENACTED]


def test_a_revived_bill_takes_the_reviving_actions_date():
    # Review row L2: tabled, then reported again.
    result = derive(act(10, "introduction"), act(11, "referral-committee"),
                    act(20, "committee-passage-favorable", "referral-committee"), act(25, "committee-failure", "x-tabled"),
                    act(28, "committee-passage-favorable"))
    assert (result.status, result.status_date, result.cause_index) == (BillStatus.PASSED_COMMITTEE, date(2024, 1, 28), 4)


def test_a_pocket_veto_cannot_be_overridden():
    # Review row L3: NY "POCKET VETO" (rules/ny.toml) carries the veto and its end.
    classes = classify_dated("ny", "POCKET VETO", date(2025, 12, 22), TODAY).classes
    result = derive(act(1, "passage", actor=U), act(2, "passage"), act(3, "executive-receipt", actor=G),
                    StatusAction(date(2024, 1, 4), classes, G), origin_chamber=U)
    assert (result.status, result.override_possible) == (BillStatus.VETOED, False)


def test_a_line_veto_and_a_signature_on_separate_lines_is_a_partial_veto():
    # Review row L4: NY writes "LINE VETO" and "SIGNED CHAP.53" as two lines.
    result = derive(act(1, "passage", actor=U), act(2, "passage"), act(3, "executive-receipt", actor=G),
                    act(9, "executive-veto-line-item", actor=G), act(9, "executive-signature", actor=G),
                    origin_chamber=U)
    assert (result.status, result.enacted_how, result.partial_veto) == (BillStatus.ENACTED, EnactedHow.SIGNED, True)


def test_prefiled_only_before_the_session_opens():
    assert derive(act(3, "filing"), session_started=date(2024, 1, 10)).prefiled
    assert not derive(act(15, "filing"), session_started=date(2024, 1, 10)).prefiled  # FL "Filed" in session
    assert derive(act(15, "filing")).prefiled  # no calendar: as the source says


def test_a_later_failure_clears_an_earlier_incorporation():
    result = derive(act(1, "introduction"), act(2, "x-incorporated", into="SB 5"), act(3, "x-tabled"))
    assert (result.failed_how, result.incorporated_into) == (FailedHow.TABLED, None)


def test_the_override_window_follows_the_states_rule():
    vetoed = [act(1, "passage"), act(2, "passage", actor=U), act(3, "executive-veto", actor=G)]
    closed = derive(*vetoed, session_ended=date(2024, 3, 1), as_of=date(2024, 6, 1))
    assert closed.override_possible is False
    # FL art. III §8(b): a veto after sine die can be taken up at the next regular session.
    still_open = derive(*vetoed, session_ended=date(2024, 3, 1), override_until=date(2025, 5, 2),
                        as_of=date(2024, 6, 1))
    assert (still_open.status, still_open.override_possible) == (BillStatus.VETOED, True)


def test_a_date_the_text_states_is_the_status_date():
    # OK "Approved by Governor 06/10/2025" is entered on 05/30.
    result = derive(act(1, "executive-signature", actor=G, on="06/10/2025"))
    assert result.status_date == date(2025, 6, 10)
    assert derive(act(1, "executive-signature", actor=G, on="13/45/2025")).status_date == date(2024, 1, 1)
