"""Synthetic demo data at any scale: the same seed gives the same records (all invented).

``generate_demo`` runs a list of generator steps (``STEPS``) in one write transaction; later
capabilities (contacts, orders, meetings, referrals) append their own step. Each step gets a
``DemoContext`` with the seeded random source, the session and what earlier steps made.

The nominal step plants labelled duplicates (about 2%) and data-quality faults (about 2%) and
records them, with labelled non-duplicates (twins), in ``DemoSummary`` and in the vault setting
``demo.truth`` so that tests and benchmarks know the truth. Audit: one "collection" row per
batch of records, naming the range of refs, rather than one row per generated record."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.errors import ValidationError
from app.domain.names import variant_table
from app.domain.nominal import (
    Address,
    Alias,
    Gender,
    Identifier,
    IdentifierType,
    LicenceDates,
    Nominal,
    RiskLevel,
    Rosh,
    Status,
    default_retention_group,
    format_ref,
)
from app.domain.pnc import make_pnc, pnc_check_letter
from app.domain.roles import Perm
from app.security.audit import Category
from app.services.base import Service, requires
from app.services.demo_audit import generate_audit_history
from app.services.demo_engagement import engagement_step
from app.services.demo_meetings import meetings_step
from app.services.demo_prevent import prevent_step
from app.services.vault import Vault
from app.store import nominals as repo
from app.store.models import (
    Nominal as NominalRow,
)
from app.store.models import (
    NominalAddress,
    NominalAlias,
    NominalIdentifier,
    Revision,
    Setting,
    utcnow,
)

Progress = Callable[[str, int, int], None]  # (step, done, total)

MAX_NOMINALS = 1_000_000
MAX_AUDIT_ROWS = 10_000_000
BATCH = 5000
TRUTH_SETTING = "demo.truth"


@dataclass
class DemoSummary:
    nominals: int
    first_ref: str | None
    last_ref: str | None
    seed: int
    seconds: float
    # (ref of the original, ref of the planted copy, kind of difference)
    planted_duplicates: list[tuple[str, str, str]] = field(default_factory=list)
    # (ref, data-quality rule id the fault should trip)
    planted_faults: list[tuple[str, str]] = field(default_factory=list)
    # Pairs that look alike but are different people (twins): must not be flagged.
    planted_non_duplicates: list[tuple[str, str, str]] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "nominals": self.nominals,
            "first_ref": self.first_ref,
            "last_ref": self.last_ref,
            "seed": self.seed,
            "seconds": round(self.seconds, 2),
            "planted_duplicates": len(self.planted_duplicates),
            "planted_faults": len(self.planted_faults),
            "steps": self.steps,
        }


@dataclass
class DemoContext:
    vault: Vault
    session: Session
    rng: random.Random
    seed: int
    nominals: int
    today: date
    now: datetime
    summary: DemoSummary
    progress: Progress | None
    # What earlier steps made, for later steps: nominal ids by status, managers, and so on.
    made: dict[str, Any] = field(default_factory=dict)

    def report(self, step: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(step, done, total)


GeneratorStep = Callable[[DemoContext], int]

# --- pools (invented people; real organisations are fine) ----------------------------------

# (forenames male, forenames female, surnames) per origin; spellings as commonly written.
ORIGINS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "british": (
        ["James", "Thomas", "Daniel", "Luke", "Ryan", "Adam", "Craig", "Lee", "Jamie", "Mark",
         "Callum", "Liam", "Nathan", "Scott", "Paul", "Stephen", "Kieran", "Jordan"],
        ["Sarah", "Emma", "Laura", "Gemma", "Amy", "Hannah", "Chloe", "Rebecca", "Leanne"],
        ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Walker", "Wright", "Thompson", "Hughes",
         "Edwards", "Green", "Hall", "Wood", "Harris", "Clarke", "Jackson", "Turner", "Hill",
         "Marsh", "Pritchard", "Fairbairn", "Ashworth"],
    ),
    "irish": (
        ["Seán", "Ciarán", "Pádraig", "Declan", "Eoin", "Cathal", "Niall", "Donal", "Ruairí"],
        ["Siobhán", "Aoife", "Niamh", "Róisín", "Caoimhe", "Sinéad"],
        ["O'Brien", "O'Neill", "Ó Briain", "McCarthy", "Murphy", "Kelly", "O'Sullivan", "Byrne",
         "Gallagher", "Ó Súilleabháin", "MacMahon", "Doherty", "Ní Bhriain"],
    ),
    "welsh": (
        ["Dafydd", "Rhys", "Gethin", "Iwan", "Llŷr", "Emyr", "Gruffudd", "Ieuan", "Rhodri"],
        ["Siân", "Angharad", "Bethan", "Catrin", "Ffion", "Gwenllian", "Eirlys"],
        ["ap Dafydd", "Llewellyn", "Pryce", "Griffiths", "Evans", "Vaughan", "Llwyd", "Bowen",
         "ap Rhys", "Prosser", "Parry"],
    ),
    "polish": (
        ["Łukasz", "Paweł", "Wojciech", "Michał", "Grzegorz", "Krzysztof", "Przemysław",
         "Tomasz", "Jakub"],
        ["Małgorzata", "Agnieszka", "Katarzyna", "Zofia", "Joanna", "Bożena"],
        ["Wiśniewski", "Wójcik", "Kowalczyk", "Dąbrowski", "Lewandowski", "Zieliński",
         "Szymański", "Woźniak", "Kamiński", "Kozłowski", "Jankowski"],
    ),
    "arabic": (
        ["Mohammed", "Ahmed", "Abdul Rahman", "Abdullah", "Yusuf", "Omar", "Khalid", "Ibrahim",
         "Hamza", "Bilal", "Tariq", "Mustafa", "Hassan", "Hussein", "Salahuddin", "Ismail",
         "Sulaiman", "Anwar", "Zakariya", "Walid", "Jamal"],
        ["Fatima", "Aisha", "Zainab", "Mariam", "Khadija", "Noor", "Amira", "Layla"],
        ["Al-Hassan", "Hussain", "Abdullah", "Rahman", "Al-Masri", "Haddad", "Mansour",
         "El-Sayed", "Nasser", "Khalil", "Qureshi", "Saleh", "Bin Yusuf", "Al-Rashid",
         "Abdel Aziz"],
    ),
    "south_asian": (
        ["Imran", "Asif", "Zubair", "Faisal", "Adnan", "Kamran", "Shahid", "Usman", "Waqas",
         "Rizwan", "Arif", "Sajid", "Nadeem", "Mohammad", "Abu Bakr", "Rajesh", "Harpreet"],
        ["Ayesha", "Sana", "Nadia", "Farzana", "Shabana", "Rukhsana", "Priya", "Saima"],
        ["Khan", "Ahmed", "Ali", "Hussain", "Iqbal", "Chaudhry", "Siddiqui", "Malik", "Begum",
         "Shah", "Akhtar", "Mahmood", "Rashid", "Patel", "Choudhury", "Bhatti", "Mirza"],
    ),
    "somali": (
        ["Abdirahman", "Abdi", "Mohamud", "Abdiaziz", "Hassan", "Omar", "Yusuf", "Liban",
         "Abdirizak", "Mahad", "Guled"],
        ["Hodan", "Ayan", "Faduma", "Hibo", "Sagal", "Ubah", "Ifrah"],
        ["Farah", "Warsame", "Abdi", "Jama", "Hersi", "Mohamed", "Ali", "Aden", "Nur", "Osman",
         "Duale", "Egal"],
    ),
    "turkish": (
        ["Mehmet", "Mustafa", "Ahmet", "Emre", "Burak", "Hüseyin", "Yusuf", "Oğuz", "Serkan"],
        ["Ayşe", "Zeynep", "Elif", "Emine", "Fatma", "Gül"],
        ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın", "Özdemir", "Arslan",
         "Doğan", "Kılıç"],
    ),
    "balkan": (
        ["Arben", "Besnik", "Driton", "Fatos", "Ilir", "Emir", "Haris", "Dragan", "Nikola",
         "Jusuf", "Edin"],
        ["Arta", "Besa", "Lejla", "Amra", "Jelena", "Mirela"],
        ["Hoxha", "Krasniqi", "Berisha", "Gashi", "Hodžić", "Begović", "Jovanović", "Kovačević",
         "Delić", "Mehmedović", "Shala"],
    ),
    "west_african": (
        ["Oluwaseun", "Adebayo", "Chinedu", "Emeka", "Kwame", "Kofi", "Ibrahima", "Mamadou",
         "Ousmane", "Babatunde", "Olumide"],
        ["Adaeze", "Chiamaka", "Folake", "Ngozi", "Abena", "Aminata", "Yewande"],
        ["Okonkwo", "Adeyemi", "Okafor", "Mensah", "Diallo", "Balogun", "Oyelaran", "Asante",
         "Traoré", "Bangura", "Olatunji", "Nwosu"],
    ),
}
ORIGIN_WEIGHTS = {"british": 22, "irish": 6, "welsh": 4, "polish": 6, "arabic": 16,
                  "south_asian": 20, "somali": 8, "turkish": 6, "balkan": 6, "west_african": 6}

FORCES: dict[str, list[str]] = {
    "Metropolitan Police Service": ["DC Imogen Thursby", "DS Rowan Achterberg",
                                    "DC Felix Marchbank", "PS Delia Ormsworth"],
    "West Midlands Police": ["DC Tobias Wrenfield", "DS Hollis Varga", "DC Priya Lanchester"],
    "Greater Manchester Police": ["DC Ambrose Kettleby", "DS Nell Farrowdale"],
    "West Yorkshire Police": ["DC Cormac Leverett", "DS Ines Baldock"],
    "Thames Valley Police": ["DC Hester Quarrie", "DS Milo Penhallow"],
    "South Wales Police": ["DC Eleri Cadwgan", "DS Osian Trevelyan"],
    "Merseyside Police": ["DC Bram Hollinrake"],
    "Avon and Somerset Constabulary": ["DS Talia Fenwright"],
}
# Built once (rng.choice over the same sequence makes the same draws as over a fresh list).
FORCE_NAMES = list(FORCES)
ROSH_LEVELS = list(Rosh)
ESTABLISHMENTS = ["HMP Belmarsh", "HMP Frankland", "HMP Full Sutton", "HMP Long Lartin",
                  "HMP Whitemoor", "HMP Woodhill", "HMP Manchester", "HMP Wakefield",
                  "HMP Swaleside", "HMP Garth", "HMP Isle of Wight", "HMP Durham"]
OFFENCES = [
    "Preparation of terrorist acts (TA 2006 s.5)",
    "Dissemination of terrorist publications (TA 2006 s.2)",
    "Encouragement of terrorism (TA 2006 s.1)",
    "Membership of a proscribed organisation (TA 2000 s.11)",
    "Collection of information useful to a terrorist (TA 2000 s.58)",
    "Funding arrangements for terrorism (TA 2000 s.17)",
    "Possession of articles for terrorist purposes (TA 2000 s.57)",
    "Explosive substances offence (ESA 1883 s.4)",
    "Grievous bodily harm with intent (terrorist connection)",
    "Possession of a firearm with intent (terrorist connection)",
    "Fraud (terrorist connection)",
]
STREETS = ["Mill Lane", "Station Road", "Church Street", "Victoria Road", "Park Avenue",
           "Queens Road", "Albert Street", "Chapel Row", "Canal Walk", "Orchard Close"]
TOWNS = [("Luton", "LU"), ("Leeds", "LS"), ("Cardiff", "CF"), ("Bradford", "BD"),
         ("Birmingham", "B"), ("Manchester", "M"), ("Reading", "RG"), ("Bristol", "BS")]
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
STATUS_WEIGHTS = {Status.CUSTODY: 35, Status.COMMUNITY: 45, Status.ABROAD: 4,
                  Status.DECEASED: 3, Status.CLOSED: 13}

DUPLICATE_KINDS = ("transliteration", "swapped", "dob_digit", "dob_swapped", "pnc_written",
                   "alias")
FAULT_KINDS = ("mandatory_missing", "dates_inconsistent", "pnc_check_letter", "status_not_current",
               "no_nominal_manager")


def _weighted(rng: random.Random, weights: dict[Any, int]) -> Any:
    keys, cumulative = _cumulative(tuple(weights.items()))
    return rng.choices(keys, cum_weights=cumulative)[0]


@lru_cache(maxsize=32)
def _cumulative(items: tuple[tuple[Any, int], ...]) -> tuple[list[Any], list[int]]:
    keys = [k for k, _w in items]
    total, cumulative = 0, []
    for _k, w in items:
        total += w
        cumulative.append(total)
    return keys, cumulative


def _years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


# --- the nominal step ---------------------------------------------------------------------------

class _NominalMaker:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.today = ctx.today
        self.used_serials: set[tuple[int, int]] = set()
        families = variant_table().families
        self.variants: dict[str, list[str]] = {}
        for members in families.values():
            spelt = [m.capitalize() for m in members if len(m) > 2]
            for m in spelt:
                self.variants[m.lower()] = spelt

    def pnc(self) -> tuple[str, int, int]:
        while True:
            year = self.rng.randint(1995, self.today.year - 1)
            serial = self.rng.randint(1, 999_999)
            if (year, serial) not in self.used_serials:
                self.used_serials.add((year, serial))
                return make_pnc(year, serial), year, serial

    def written_pnc(self, year: int, serial: int) -> str:
        """The same PNC as people write it: two- or four-digit year, zeros or not."""
        letter = pnc_check_letter(year, serial)
        form = self.rng.randrange(4)
        if form == 0:
            return f"{year % 100:02d}/{serial}{letter}"
        if form == 1:
            return f"{year}/{serial}{letter}"
        if form == 2:
            return f"{year % 100:02d}/{serial:07d}{letter}"
        return f"{year}/{serial:07d}{letter}".lower()

    def dob(self) -> date:
        start = _years(self.today, -75)
        span = (_years(self.today, -18) - start).days
        return start + timedelta(days=self.rng.randrange(span))

    def person(self) -> tuple[str, str, Gender, str]:
        origin = _weighted(self.rng, ORIGIN_WEIGHTS)
        male, female, surnames = ORIGINS[origin]
        gender = Gender.M if self.rng.random() < 0.88 else Gender.F
        pool = male if gender is Gender.M else female
        forenames = self.rng.choice(pool)
        if self.rng.random() < 0.3:
            second = self.rng.choice(pool)
            if second != forenames:
                forenames = f"{forenames} {second}"
        return self.rng.choice(surnames), forenames, gender, origin

    def record(self) -> Nominal:
        rng = self.rng
        surname, forenames, gender, _origin = self.person()
        dob = self.dob()
        status = _weighted(rng, STATUS_WEIGHTS)
        force = rng.choice(FORCE_NAMES)
        manager = rng.choice(FORCES[force])
        earliest_sentence = max(_years(dob, 18), date(1995, 1, 1))
        if status is Status.CUSTODY:
            release = self.today + timedelta(days=rng.randint(20, 3600))
        else:
            release = self.today - timedelta(days=rng.randint(30, 4000))
        custody_days = rng.randint(180, 3650)
        sentence = max(release - timedelta(days=custody_days), earliest_sentence)
        if sentence >= release or sentence > self.today:
            sentence = min(earliest_sentence, self.today - timedelta(days=30))
            release = max(release, sentence + timedelta(days=60))
            if status is not Status.CUSTODY and release > self.today:
                status = Status.CUSTODY
        length = (release - sentence).days * 2
        sed = sentence + timedelta(days=length)
        period = 30 if length >= 3650 else 15 if length >= 1825 else 10
        dates = LicenceDates(
            sentence_date=sentence,
            crd=release,
            sed=sed,
            led=sed,
            hdced=release - timedelta(days=135) if rng.random() < 0.2
            and release - timedelta(days=135) > sentence else None,
            ped=sentence + timedelta(days=length // 3) if rng.random() < 0.15 else None,
            tused=_years(sed, 1) if rng.random() < 0.1 else None,
            notification_start=release,
        )
        pnc, year, serial = self.pnc()
        pnc_text = self.written_pnc(year, serial) if rng.random() < 0.3 else pnc
        identifiers: list[Identifier] = []
        if rng.random() < 0.6:
            identifiers.append(Identifier(IdentifierType.NOMIS,
                                          f"A{rng.randint(1000, 9999)}"
                                          f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXY')}"
                                          f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXY')}"))
        if rng.random() < 0.2:
            identifiers.append(Identifier(IdentifierType.PASSPORT,
                                          str(rng.randint(100_000_000, 999_999_999))))
        if rng.random() < 0.4:
            identifiers.append(Identifier(IdentifierType.PRISON_NUMBER,
                                          f"{rng.choice('ABCDEFGH')}{rng.randint(10000, 99999)}"))
        aliases: list[Alias] = []
        if rng.random() < 0.15:
            alt_surname, alt_forenames, _g, _o = self.person()
            aliases.append(Alias(alt_surname, forenames if rng.random() < 0.5 else alt_forenames,
                                 dob if rng.random() < 0.7 else None))
        if rng.random() < 0.08:
            aliases.append(Alias(self.variant_of(surname), self.variant_of(forenames), None))
        addresses: list[Address] = []
        if status is not Status.CUSTODY or rng.random() < 0.3:
            town, area = rng.choice(TOWNS)
            addresses.append(Address(
                f"{rng.randint(1, 180)} {rng.choice(STREETS)}, {town}",
                f"{area}{rng.randint(1, 20)} {rng.randint(1, 9)}"
                f"{rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}",
                release if status is not Status.CUSTODY else None,
                None,
            ))
        offence = rng.choice(OFFENCES)
        category = 4 if "terror" in offence.lower() or "TA 2" in offence else rng.choice((2, 3))
        risk = rng.choices([RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW], [2, 5, 3])[0]
        return Nominal(
            surname=surname,
            forenames=forenames,
            dob=dob,
            gender=gender,
            pnc=pnc_text,
            cro=f"{rng.randint(1, 999999):06d}/{(sentence.year % 100):02d}"
                f"{rng.choice('ABCDEFGHJKLMNPQRTUVWXY')}" if rng.random() < 0.7 else None,
            aliases=tuple(aliases),
            status=status,
            establishment=rng.choice(ESTABLISHMENTS) if status is Status.CUSTODY else None,
            release_date=release,
            risk_level=risk,
            mappa_category=category,
            mappa_level=rng.choice((1, 2, 2, 3)),
            nominal_manager=manager,
            force=force,
            offence=offence,
            notification_end=_years(release, period),
            notes=None,
            identifiers=tuple(identifiers),
            addresses=tuple(addresses),
            dates=dates,
            rosh=rng.choice(ROSH_LEVELS),
            retention_group=default_retention_group(offence),
        )

    def variant_of(self, name: str) -> str:
        """Another spelling of a name: a transliteration variant, or diacritics and
        apostrophes dropped; the name itself if it has none."""
        parts = name.split()
        for i, part in enumerate(parts):
            options = [v for v in self.variants.get(part.lower(), []) if v.lower() != part.lower()]
            if options:
                parts[i] = self.rng.choice(options)
                return " ".join(parts)
        import unicodedata

        plain = "".join(ch for ch in unicodedata.normalize("NFKD", name)
                        if not unicodedata.combining(ch)).replace("'", "").replace("ł", "l")
        plain = plain.replace("Ł", "L").replace("ı", "i")
        if plain != name:
            return plain
        if " " in name:
            return name.replace(" ", "")
        if "-" in name:
            return name.replace("-", " ")
        return name

    def duplicate(self, original: Nominal, kind: str) -> Nominal:
        """A second record of the same person, made the way real duplicates arise."""
        rng = self.rng
        copy = replace(original, aliases=(), identifiers=(), addresses=(), cro=None, pnc=None,
                       notes=None)
        assert original.dob is not None
        if kind == "transliteration":
            copy = replace(copy, surname=self.variant_of(original.surname),
                           forenames=self.variant_of(original.forenames))
        elif kind == "swapped":
            copy = replace(copy, surname=original.forenames, forenames=original.surname)
        elif kind == "dob_digit":
            text = original.dob.strftime("%Y%m%d")
            for _ in range(20):
                pos = rng.choice((3, 7, 7, 5))
                digit = str((int(text[pos]) + rng.randint(1, 9)) % 10)
                candidate = text[:pos] + digit + text[pos + 1:]
                try:
                    new = datetime.strptime(candidate, "%Y%m%d").date()
                except ValueError:
                    continue
                if new <= self.today and new != original.dob:
                    copy = replace(copy, dob=new)
                    break
        elif kind == "dob_swapped":
            d = original.dob
            if d.day <= 12 and d.day != d.month:
                copy = replace(copy, dob=date(d.year, d.day, d.month))
            else:
                copy = replace(copy, surname=self.variant_of(original.surname))
        elif kind == "pnc_written":
            parsed = original.pnc_normalised
            assert parsed is not None
            year, serial = int(parsed[:4]), int(parsed[5:12])
            copy = replace(copy, pnc=self.written_pnc(year, serial), dob=None if rng.random()
                           < 0.3 else original.dob)
        elif kind == "alias":
            alias_surname, alias_forenames, _g, _o = self.person()
            copy = replace(copy, surname=alias_surname, forenames=original.forenames)
            return replace(copy, aliases=(Alias(original.surname, original.forenames,
                                                original.dob),))
        return copy

    def twin(self, original: Nominal) -> Nominal:
        """A different person: same surname and date of birth, own forenames and identifiers."""
        pool = ORIGINS["british"][0]
        for male, _female, surnames in ORIGINS.values():
            if original.surname in surnames:
                pool = male
        names = [n for n in pool if n.split()[0] != original.forenames.split()[0]]
        pnc, _year, _serial = self.pnc()
        return replace(original, forenames=self.rng.choice(names), pnc=pnc, aliases=(),
                       identifiers=(), cro=None)

    def fault(self, record: Nominal, kind: str) -> Nominal:
        rng = self.rng
        if kind == "mandatory_missing":
            name = rng.choice(("dob", "force", "status", "forenames"))
            if name == "status":
                return replace(record, status=None, establishment=None)
            if name == "forenames":
                return replace(record, forenames="")
            if name == "dob":
                return replace(record, dob=None)
            return replace(record, force=None)
        if kind == "dates_inconsistent":
            sentence = record.dates.sentence_date
            assert sentence is not None and record.dates.crd is not None
            if rng.random() < 0.5:
                return replace(record, dates=replace(record.dates,
                                                     led=record.dates.crd - timedelta(days=90)))
            return replace(record, release_date=sentence - timedelta(days=rng.randint(5, 300)),
                           dates=replace(record.dates, crd=None, notification_start=None))
        if kind == "pnc_check_letter":
            parsed = record.pnc_normalised
            assert parsed is not None
            right = parsed[-1]
            wrong = next(ch for ch in "ZABCDEFGHJKLMNPQRTUVWXY" if ch != right)
            return replace(record, pnc=parsed[:-1] + wrong)
        if kind == "status_not_current":
            past = self.today - timedelta(days=rng.randint(30, 700))
            sentence = record.dates.sentence_date
            assert sentence is not None
            past = max(past, sentence + timedelta(days=1))
            return replace(record, status=Status.CUSTODY,
                           establishment=rng.choice(ESTABLISHMENTS), release_date=past,
                           dates=replace(record.dates, crd=past, notification_start=past))
        if kind == "no_nominal_manager":
            return replace(record, nominal_manager=None)
        raise ValueError(kind)


def generate_nominals(ctx: DemoContext) -> int:
    """The nominals: realistic, with ~2% planted duplicates, ~2% faults, a few twins."""
    maker = _NominalMaker(ctx)
    rng = ctx.rng
    s = ctx.session
    user = ctx.vault.actor.user
    first_id = repo.next_id(s)
    total = ctx.nominals
    records: list[Nominal] = []
    labels: list[str] = []  # per record: "" / "dup:kind:original_index" / "fault:kind" / "twin:i"
    dup_quota = round(total * 0.02)
    fault_quota = round(total * 0.02)
    twin_quota = max(1, total // 500) if total >= 50 else 0
    for _ in range(total):
        records.append(maker.record())
        labels.append("")
    # Choose originals from the first 90% so that copies (which replace later records) do
    # not overwrite an original.
    pool = list(range(total))
    rng.shuffle(pool)
    cut = total * 9 // 10
    originals = [i for i in pool if i < cut]
    targets = [i for i in pool if i >= cut]
    summary = ctx.summary
    dup_pairs: list[tuple[int, int, str]] = []
    used: set[int] = set()
    for n in range(min(dup_quota, len(targets) // 2, len(originals))):
        src, dst = originals[n], targets[n]
        kind = DUPLICATE_KINDS[n % len(DUPLICATE_KINDS)]
        records[dst] = maker.duplicate(records[src], kind)
        labels[dst] = f"dup:{kind}"
        dup_pairs.append((src, dst, kind))
        used.update((src, dst))
    twins: list[tuple[int, int]] = []
    rest_targets = targets[len(dup_pairs):]
    rest_originals = [i for i in originals[len(dup_pairs):] if i not in used]
    for n in range(min(twin_quota, len(rest_targets), len(rest_originals))):
        src, dst = rest_originals[n], rest_targets[n]
        records[dst] = maker.twin(records[src])
        twins.append((src, dst))
        used.update((src, dst))
    free = [i for i in range(total) if i not in used]
    # A copy written without a date of birth is a fault too; label it as one.
    faults: list[tuple[int, str]] = [(dst, "mandatory_missing") for _src, dst, _k in dup_pairs
                                     if records[dst].dob is None]
    for n, i in enumerate(free[:max(fault_quota - len(faults), 0)]):
        kind = FAULT_KINDS[n % len(FAULT_KINDS)]
        records[i] = maker.fault(records[i], kind)
        faults.append((i, kind))
    summary.planted_duplicates.extend(
        (format_ref(first_id + a), format_ref(first_id + b), k) for a, b, k in dup_pairs)
    summary.planted_non_duplicates.extend(
        (format_ref(first_id + a), format_ref(first_id + b), "twin") for a, b in twins)
    summary.planted_faults.extend((format_ref(first_id + i), k) for i, k in faults)
    _bulk_insert(ctx, first_id, records, user)
    summary.first_ref = format_ref(first_id) if total else None
    summary.last_ref = format_ref(first_id + total - 1) if total else None
    ctx.made["nominal_ids"] = list(range(first_id, first_id + total))
    return total


# SQLCipher decrypts and re-encrypts every page that leaves its cache: a bulk load into a
# small cache spends most of its time doing that (measured: 10x slower at 20,000 rows).
BULK_CACHE_KIB = 262_144


def _bulk_insert(ctx: DemoContext, first_id: int, records: list[Nominal], user: str) -> None:
    """Write the records, their children, create revisions and search keys, in batches.

    The secondary indexes of these tables are dropped for the load and built again after it
    (``repo.deferred_indexes``: one sorted build each instead of a random insert per row into
    each of 26), and the rows go to the driver as tuples (``repo.BulkInsert``)."""
    s = ctx.session
    now = ctx.now
    reason = f"demo data (seed {ctx.seed})"
    writers: dict[str, repo.BulkInsert] = {}

    def write(model: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        writer = writers.get(model.__tablename__)
        if writer is None:
            writer = writers[model.__tablename__] = repo.BulkInsert(s, model, tuple(rows[0]))
        writer.execute(s, rows)

    with repo.deferred_indexes(s, len(records)):
        for start in range(0, len(records), BATCH):
            chunk = records[start:start + BATCH]
            rows: list[dict[str, Any]] = []
            aliases: list[dict[str, Any]] = []
            identifiers: list[dict[str, Any]] = []
            addresses: list[dict[str, Any]] = []
            index: list[tuple[int, str]] = []
            revisions: list[dict[str, Any]] = []
            for offset, record in enumerate(chunk):
                nominal_id = first_id + start + offset
                ref = format_ref(nominal_id)
                values = repo.column_values(record)
                values.update(id=nominal_id, ref=ref, created_at=now, created_by=user,
                              updated_at=now, updated_by=user, merged_into_id=None,
                              merged_at=None)
                rows.append(values)
                a, i, d = repo.child_rows(nominal_id, record)
                aliases.extend(a)
                identifiers.extend(i)
                addresses.extend(d)
                index.append((nominal_id, repo.search_text(ref, record)))
                revisions.append({"entity": "nominal", "record_id": nominal_id, "at": now,
                                  "user": user, "action": "create", "reason": reason,
                                  "changes": "{}"})
            write(NominalRow, rows)
            write(NominalAlias, aliases)
            write(NominalIdentifier, identifiers)
            write(NominalAddress, addresses)
            write(Revision, revisions)
            repo.index(s, index, fresh=True)
            ctx.vault.audit(
                s, Category.COLLECTION, "demo.nominals", entity="nominal",
                reason=reason,
                detail={"first_ref": format_ref(first_id + start),
                        "last_ref": format_ref(first_id + start + len(chunk) - 1),
                        "count": len(chunk), "note": "one row per batch of generated records"},
            )
            ctx.report("nominals", start + len(chunk), len(records))


# Later capabilities append (name, step); each returns how many records it made.
STEPS: list[tuple[str, GeneratorStep]] = [("nominals", generate_nominals)]
STEPS.append(("engagement", engagement_step))  # contacts, notifications, orders, pathways
STEPS.append(("prevent", prevent_step))  # referrals, assessments, intelligence
STEPS.append(("meetings", meetings_step))  # meetings, actions, ISAs, correspondence


def _save_truth(ctx: DemoContext) -> None:
    value = json.dumps({
        "seed": ctx.seed,
        "duplicates": ctx.summary.planted_duplicates,
        "faults": ctx.summary.planted_faults,
        "non_duplicates": ctx.summary.planted_non_duplicates,
    })
    existing = ctx.session.get(Setting, TRUTH_SETTING)
    if existing is None:
        ctx.session.add(Setting(key=TRUTH_SETTING, value=value, updated_by=ctx.vault.actor.user))
    else:
        existing.value = value
        existing.updated_at = utcnow()


def generate_demo(vault: Vault, nominals: int, seed: int, progress: Progress | None = None,
                  today: date | None = None, audit_rows: int = 0) -> DemoSummary:
    """Fill a vault with synthetic data; the same seed (and day) gives the same records.

    `audit_rows` > 0 also appends that many chained audit rows of synthetic history (ten
    years of use), for scale benchmarks."""
    if not 0 <= nominals <= MAX_NOMINALS:
        raise ValidationError("nominals", f"must be from 0 to {MAX_NOMINALS:,}")
    if not 0 <= audit_rows <= MAX_AUDIT_ROWS:
        raise ValidationError("audit_rows", f"must be from 0 to {MAX_AUDIT_ROWS:,}")
    started = time.perf_counter()
    summary = DemoSummary(nominals=nominals, first_ref=None, last_ref=None, seed=seed,
                          seconds=0.0)
    with vault.write() as s:
        ctx = DemoContext(vault=vault, session=s, rng=random.Random(seed), seed=seed,
                          nominals=nominals, today=today or date.today(), now=utcnow(),
                          summary=summary, progress=progress)
        conn = s.connection()
        previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            for name, step in STEPS:
                ctx.report(name, 0, 0)  # a step starts (total 0): its name, a place to cancel
                summary.steps[name] = step(ctx)
            if audit_rows:
                summary.steps["audit"] = generate_audit_history(ctx, audit_rows)
            ctx.report("finishing", 0, 0)
            _save_truth(ctx)
            repo.optimize_index(s)
            # Fresh statistics let the planner pick the right index for a filtered, sorted
            # list (without them a status filter sorts 35,000 rows instead of walking an index).
            conn.exec_driver_sql("ANALYZE")
        finally:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(previous or -2000)}")
    summary.seconds = time.perf_counter() - started
    return summary


def demo_truth(vault: Vault) -> dict[str, Any] | None:
    """What the last demo run planted (for tests and benchmarks), or None."""
    with vault.read() as s:
        row = s.scalar(select(Setting).where(Setting.key == TRUTH_SETTING))
        return json.loads(row.value) if row is not None else None


class DemoService(Service):
    """Role-checked entry for the command line and the window (admin only)."""

    @requires(Perm.DEMO)
    def generate(self, nominals: int, seed: int, progress: Progress | None = None) -> DemoSummary:
        return generate_demo(self.vault, nominals, seed, progress)
