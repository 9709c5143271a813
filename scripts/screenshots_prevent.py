"""Drive the real window offscreen through the Prevent screens on a demo vault and save PNGs to
/tmp/caseward-shots/ (1366x768); then time the patterns dashboard's redraw on 10,000 referrals.

Usage: .venv/bin/python scripts/screenshots_prevent.py [OUT_DIR] [--no-bench]
Uses a throw-away home folder, an in-memory keyring and synthetic data only."""

from __future__ import annotations

import random
import statistics
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import _shots  # first (sorts first too): a throw-away home and offscreen Qt before the app
from _shots import HOME, PASSPHRASE, SIZE, over_backdrop, settle, wait_until
from PySide6.QtWidgets import QApplication

from app.domain.prevent import VafInput
from app.domain.roles import Role
from app.services.assessments import AssessmentService
from app.services.referrals import ReferralFilter, ReferralService
from app.services.users import UserService
from app.services.vault import Actor


def make_vault(path: Path, nominals: int) -> None:
    """A demo vault (a few thousand referrals) with analyst c.mirza and one referral that has
    two VAF versions to compare."""
    vault = _shots.demo_vault(path, nominals, seed=7)
    UserService(vault).add_user("c.mirza", "analyst", PASSPHRASE, display_name="Cal Mirza")
    vault.actor = Actor("c.mirza", Role.ANALYST)
    refs = ReferralService(vault)
    assess = AssessmentService(vault)
    row = refs.queue(ReferralFilter(stages=("decision", "outcome")), limit=1)[0]
    if len(assess.vaf_versions(row.id)) < 2:
        template = assess.vaf_template()
        on = max(row.received_at.date(), date.today() - timedelta(days=20))
        base = {f.code: ("low", f"Nothing of note about {f.label.lower()}.")
                for f in template.factors}
        codes = [f.code for f in template.factors]
        v1 = VafInput(factors=base, threat="low", threat_rationale="No stated intent to act.",
                      risk="medium", risk_rationale="Continued access to violent material.",
                      vulnerability="high", vulnerability_rationale="Age 15, isolated at school.",
                      assessed_on=on)
        changed = dict(base)
        changed[codes[0]] = ("high", "Voices grievance about his treatment daily.")
        changed[codes[6]] = ("medium", "Repeats slogans from an online channel.")
        changed[codes[14]] = ("medium", "Has said he would 'do something' about it.")
        v2 = VafInput(factors=changed, threat="medium",
                      threat_rationale="Spoken of acting; no plan or means found.",
                      risk="medium", risk_rationale="Continued access to violent material.",
                      vulnerability="high", vulnerability_rationale="Age 15, isolated; excluded.",
                      assessed_on=min(on + timedelta(days=10), date.today()),
                      change_reason="School reported new remarks and a fixed-term exclusion.")
        if not assess.vaf_versions(row.id):
            assess.add_vaf(row.id, v1)
        assess.add_vaf(row.id, v2)
    with open(path.with_suffix(".ref"), "w", encoding="utf-8") as f:
        f.write(row.ref)
    vault.lock()


def bench_dashboard(app: QApplication, referrals: int = 10_000) -> None:
    """Redraw after a filter change on ``referrals``: data (off the UI thread) and drawing."""
    from app.services.demo_prevent import generate_prevent
    from ui.ops import OpRunner
    from ui.prevent.patterns import PatternsDashboard

    vault = _shots.new_vault(HOME / "bench.cwv", "admin")
    generate_prevent(vault, random.Random(7), referrals, today=date.today())
    vault.actor = Actor("analyst", Role.ANALYST)
    ops = OpRunner()
    services = _shots.services_for(vault, ops, "b.ini")
    dash = PatternsDashboard(services)
    dash.resize(1156, 700)
    dash.show()
    wait_until(app, lambda: not dash.loading)
    totals, draws, datas = [], [], []
    changes: list[Callable[[], None]] = [
        lambda: dash.sector.setCurrentIndex(1),
        lambda: dash.sector.setCurrentIndex(0),
        lambda: dash.concern.setCurrentIndex(2),
        lambda: dash.concern.setCurrentIndex(0),
        lambda: dash._all_dates(),
    ]
    for i in range(15):
        if i % 5 == 4:
            dash.start.setDate(dash.start.date().addMonths(-6 if i % 2 else 6))
            dash._timer.stop()
            dash.reload()
        else:
            changes[i % 4]()
        wait_until(app, lambda: not dash.loading)
        totals.append(dash.last_ms["total"])
        draws.append(dash.last_ms["draw"])
        datas.append(dash.last_ms["data"])
    print(f"dashboard redraw on {referrals:,} referrals after a filter change "
          f"(n={len(totals)}): median {statistics.median(totals):.0f} ms, "
          f"max {max(totals):.0f} ms (data median {statistics.median(datas):.0f} ms off the "
          f"UI thread; drawing median {statistics.median(draws):.1f} ms, "
          f"max {max(draws):.1f} ms)")
    ops.wait()
    dash.close()
    vault.lock()


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = _shots.out_dir(args[0] if args else None)
    app = _shots.qt_app()
    path = HOME / "demo.cwv"
    make_vault(path, 6000)
    compare_ref = path.with_suffix(".ref").read_text(encoding="utf-8")
    shots = _shots.Shots(out)
    save = shots.save

    ctl = _shots.window_app(path)
    _shots.unlock(app, ctl, "c.mirza", PASSPHRASE)
    win = ctl.window
    win.resize(*SIZE)
    settle(app)
    services = ctl.services
    assert services is not None

    # Triage queue: everything open, immediate risk first.
    area = win.show_area("referrals")
    queue = area.queue  # type: ignore[attr-defined]
    wait_until(app, lambda: not queue.loading)
    queue.stage.setCurrentIndex(queue.stage.findData("open"))
    wait_until(app, lambda: not queue.loading)
    settle(app)
    save(win, "p01-triage-queue")
    queue.overdue.setChecked(True)
    wait_until(app, lambda: not queue.loading)
    settle(app)
    save(win, "p02-triage-overdue")
    queue.overdue.setChecked(False)
    wait_until(app, lambda: not queue.loading)

    # Intake: a subject who is already known, the duplicate check showing the match.
    known = services.get(ReferralService).show(queue.model.record(3).id)
    form = area.new_referral()  # type: ignore[attr-defined]
    form.surname.setText(known.surname)
    form.forenames.setText(known.forenames[:3])
    if known.dob:
        form.dob.setText(known.dob.strftime("%d/%m/%Y"))
    form.referrer.setText("Ms J. Pellow")
    form.sector.setCurrentIndex(form.sector.findData("education"))
    wait_until(app, lambda: not form._timer.isActive() and not form.checking)
    form.summary.setFocus()
    form.errors.validate()  # the concern and summary messages beside their fields
    settle(app)
    save(win, "p03-intake-duplicate-check")
    area.show_queue()  # type: ignore[attr-defined]

    # Workspace: a referral awaiting its gateway decision, the NDM form with messages.
    waiting = services.get(ReferralService).queue(
        ReferralFilter(stages=("new", "gateway")), limit=1)
    if waiting:
        ws = area.open_referral(waiting[0].id)  # type: ignore[attr-defined]
        ws.show_tab("Gateway assessment")
        ws.gateway_form.add_check()
        ws.gateway_form.checks.setData(ws.gateway_form.checks.index(0, 2),
                                       "No trace on PNC or PND.")
        ws.gateway_form.ct_risk.setCurrentIndex(ws.gateway_form.ct_risk.findData("unclear"))
        ws.gateway_form.ndm.boxes["information"].setPlainText(
            "PNC and PND searched; school safeguarding lead spoken to.")
        ws.gateway_form.save()
        settle(app)
        ws.pages["Gateway assessment"].verticalScrollBar().setValue(330)
        settle(app)
        save(win, "p04-ndm-record-form")

    # A decided referral: the NDM record, and the VAF comparison.
    ws = area.open_referral(compare_ref)  # type: ignore[attr-defined]
    ws.show_tab("Decisions (NDM)")
    settle(app)
    save(win, "p05-ndm-record")
    ws.show_tab("Compare versions")
    settle(app)
    save(win, "p06-assessment-comparison")
    ws.show_tab("Outcome")
    settle(app)
    save(win, "p07-outcome")
    ws.show_tab("Vulnerability (VAF)")
    settle(app)
    save(win, "p08-vaf-form")

    intel = win.show_area("intelligence")
    wait_until(app, lambda: not intel.loading)  # type: ignore[attr-defined]
    settle(app)
    save(win, "p09-intelligence-log")
    from ui.prevent.intel import AddIntelDialog

    add = AddIntelDialog(services, area.lists, parent=win)  # type: ignore[attr-defined]
    add.handling.setCurrentIndex(add.handling.findData("C"))
    add.summary.setPlainText("Seen handing out leaflets of a proscribed group outside college.")
    add.show()
    add.submit()
    settle(app)
    save(over_backdrop(win.grab().toImage(), add), "p10-intelligence-add-conditions")
    add.close()

    dash = win.show_area("patterns")
    wait_until(app, lambda: not dash.loading)  # type: ignore[attr-defined]
    settle(app, 20)
    save(win, "p11-patterns-dashboard")
    dash._all_dates()  # type: ignore[attr-defined]
    dash._timer.stop()  # type: ignore[attr-defined]
    dash.reload()  # type: ignore[attr-defined]
    wait_until(app, lambda: not dash.loading)  # type: ignore[attr-defined]
    settle(app, 20)
    save(win, "p12-patterns-all-dates")
    chart = dash.charts["source_sector"]  # type: ignore[attr-defined]
    chart.activate(len(chart.bars) - 1)
    wait_until(app, lambda: getattr(dash, "last_drill", None) is not None)
    settle(app)
    save(over_backdrop(win.grab().toImage(), dash.last_drill), "p13-patterns-drill-down")
    dash.last_drill.close()  # type: ignore[attr-defined]

    inst = win.show_area("institutions")
    settle(app)
    save(win, "p14-institutions")
    research = win.show_area("research")
    research.narrative.setPlainText(  # type: ignore[attr-defined]
        "Referrals from Southmere schools rose in the autumn term, mostly extreme right-wing "
        "concerns about boys aged 12-15 sharing the same online material.")
    settle(app)
    save(win, "p15-research-summary")
    del inst
    ctl.shutdown()
    print("\n".join(str(p) for p in shots.saved))
    if "--no-bench" not in sys.argv:
        bench_dashboard(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
