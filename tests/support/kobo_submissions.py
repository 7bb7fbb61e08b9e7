"""A fast, seeded generator of the synthetic KoBo project's submissions, as KoBo API v2 returns them."""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from itertools import accumulate

from tests.support.kobo_form_codes import ASSET_UID, CERCLES, CHOICE_LISTS, FORM_UUID, REGIONS, V1, V2, VIOLATIONS
from tests.support.kobo_xlsform import GROUPS, THEMED_GROUPS, Group, Question, check_version

# Submissions look like KoBo API v2 data: numbers as strings, unanswered questions absent, select_multiple
# space-separated, the repeat as a list of dicts with full-path keys, `_submission_time` in UTC without a zone.
FIRST_ID = 51_230_001
# KoBo ids are global to the server, so one project's ids have gaps (other projects' submissions in between).
ID_STEP = 2
FIRST_SUBMISSION_TIME = datetime(2024, 1, 16, 8, 0, 0)
SUBMISSION_EVERY = timedelta(minutes=5)
V2_FROM_INDEX = int((datetime(2024, 3, 1, 8) - FIRST_SUBMISSION_TIME) / SUBMISSION_EVERY)
_REGION_CENTRES = {"ML01": (14.0, -10.5), "ML02": (13.8, -7.5), "ML03": (11.5, -6.5), "ML04": (13.8, -5.8),
                   "ML05": (14.5, -3.8), "tombouctou": (17.5, -3.0), "gao": (16.3, 0.0), "kidal": (19.5, 1.3),
                   "ML09": (12.64, -8.0), "menaka": (15.9, 2.4)}
_REGION_WEIGHTS = {"ML01": 3, "ML02": 5, "ML03": 3, "ML04": 15, "ML05": 30, "tombouctou": 15, "gao": 12,
                   "kidal": 4, "ML09": 3, "menaka": 10}
_VIOLATION_WEIGHTS = {"meurtre": 8, "blessure": 10, "enlevement": 9, "arrestation_arbitraire": 6, "extorsion": 14,
                      "vbg": 12, "recrutement_enfants": 3, "attaque_civils_biens": 12, "deplacement_force": 9,
                      "restriction_mouvement": 8, "incident_engins_explosifs": 5, "autre": 4}


_FIRST_NAMES_F = ("Aminata", "Fatoumata", "Mariam", "Aïssata", "Kadiatou", "Oumou", "Hawa", "Rokia", "Fanta",
                  "Assétou", "Djénéba", "Salimata", "Zeinabou", "Fadimata", "Mariama")
_FIRST_NAMES_M = ("Moussa", "Ibrahim", "Oumar", "Hamadoun", "Boubacar", "Seydou", "Amadou", "Mahamane",
                  "Souleymane", "Bakary", "Issa", "Ag Mohamed", "Yacouba", "Modibo", "Almoustapha")
_LAST_NAMES = ("Traoré", "Diarra", "Coulibaly", "Maïga", "Cissé", "Touré", "Dicko", "Sangaré", "Keïta", "Diallo",
               "Konaté", "Dembélé", "Sidibé", "Guindo", "Ag Alhousseini", "Walet Ahmed", "Tamboura", "Kassogué")
_ENUMERATORS = tuple(f"pm_moniteur_{n:02d}" for n in range(1, 31))
_LOCALITIES = ("Sévaré", "Boni", "Hombori", "Ber", "Léré", "Tessit", "Inékar", "Tin-Hama", "Dioungani", "Ogossagou",
               "Diafarabé", "Sokolo", "Farabougou", "Niono-Centre", "Talataye", "Ouatagouna", "Fafa", "Bintagoungou")
_NARRATIVE_OPENINGS = (
    "Des hommes armés à moto ont fait irruption dans la localité de {place}",
    "Selon plusieurs témoins, un groupe d'individus armés s'est présenté à {place}",
    "Au cours d'une patrouille, des éléments armés ont intercepté des civils près de {place}",
    "Un convoi de civils a été arrêté sur l'axe menant à {place}",
    "Les habitants de {place} rapportent une nouvelle incursion",
)
_NARRATIVE_FACTS = (
    "Les victimes ont été menacées puis dépouillées de leurs biens.",
    "Plusieurs personnes ont été emmenées vers une destination inconnue.",
    "Des greniers et des boutiques ont été incendiés.",
    "Une femme a été agressée alors qu'elle se rendait au point d'eau.",
    "Les assaillants ont exigé le paiement d'une « zakat » sous menace.",
    "Un engin explosif a sauté au passage d'une charrette.",
    "Les familles ont quitté le village pendant la nuit.",
)
_NARRATIVE_ENDINGS = ("La communauté vit dans la peur.", "Aucune plainte n'a été déposée.",
                      "Les autorités locales ont été informées.", "Les victimes ont été référées au CSCOM.", "")
_DEVICES = tuple(f"collect:{hashlib.md5(str(n).encode()).hexdigest()[:16]}" for n in range(40))
_VALIDATION = (
    {"timestamp": 1718101234, "uid": "validation_status_approved", "by_whom": "imo_mali", "color": "#00ff00",
     "label": "Approved"},
    {"timestamp": 1718101240, "uid": "validation_status_on_hold", "by_whom": "imo_mali", "color": "#0000ff",
     "label": "On Hold"},
    {"timestamp": 1718101299, "uid": "validation_status_not_approved", "by_whom": "imo_mali", "color": "#ff0000",
     "label": "Not Approved"},
)
_BLOCKS_PER_THEME = 97
_SKIP_RATE = 0.06


def submission_id(i: int) -> int:
    """The `_id` of the i-th submission of the synthetic project."""
    return FIRST_ID + ID_STEP * i


def submission_index(submission_id_: int) -> int:
    """Inverse of submission_id."""
    index, remainder = divmod(submission_id_ - FIRST_ID, ID_STEP)
    if remainder or index < 0:
        raise ValueError(f"{submission_id_} is not a synthetic submission id")
    return index


def version_for(i: int) -> str:
    """The form version a submission used: v2 once it was deployed."""
    return V1 if i < V2_FROM_INDEX else V2


@cache
def _choice_names(list_name: str) -> tuple[str, ...]:
    if list_name == "violation":
        return tuple(VIOLATIONS)
    if list_name == "region":
        return tuple(REGIONS)
    return tuple(name for name, _, _ in CHOICE_LISTS[list_name])


# The helpers below draw with rng.random() (one C call) rather than rng.choice/randint, which run several
# Python frames each: it makes 100k submissions a matter of seconds.
def _pick(rng: random.Random, options: Sequence[str]) -> str:
    return options[int(rng.random() * len(options))]


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


@dataclass(frozen=True)
class _Weighted:
    names: tuple[str, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, weights: dict[str, int]) -> _Weighted:
        return cls(tuple(weights), tuple(accumulate(weights.values())))

    def draw(self, rng: random.Random) -> str:
        return self.names[bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


_REGION_DRAW = _Weighted.of(_REGION_WEIGHTS)
_VIOLATION_DRAW = _Weighted.of(_VIOLATION_WEIGHTS)
_VICTIM_COUNT_DRAW = _Weighted.of({"1": 50, "2": 20, "3": 12, "4": 8, "5": 6, "6": 4})


def _pick_many(rng: random.Random, options: Sequence[str], most: int = 3) -> str:
    """A select_multiple answer: 1..most distinct choices, space-separated in choice-list order."""
    wanted = _between(rng, 1, min(most, len(options)))
    chosen: set[int] = set()
    while len(chosen) < wanted:
        chosen.add(int(rng.random() * len(options)))
    return " ".join(options[k] for k in sorted(chosen))


def _answer(q: Question, rng: random.Random) -> str:
    if q.type == "select_one":
        return _pick(rng, _choice_names(q.list_name or ""))
    if q.type == "select_multiple":
        return _pick_many(rng, _choice_names(q.list_name or ""))
    if q.type == "integer":
        return str(_between(rng, 0, q.upto))
    return _pick(rng, _LOCALITIES) + " et environs"


def _themed_block(group: Group, rng: random.Random) -> dict[str, str]:
    block: dict[str, str] = {}
    for q in group.children:
        if not isinstance(q, Question):
            continue
        if q.relevant and block.get(f"{group.name}/{q.relevant[0]}") != q.relevant[1]:
            continue
        if rng.random() < _SKIP_RATE:
            continue  # an optional question left unanswered: KoBo omits the key
        block[f"{group.name}/{q.name}"] = _answer(q, rng)
    return block


@cache
def _themed_blocks() -> tuple[tuple[dict[str, str], ...], ...]:
    """Pre-drawn answer blocks per themed group; a submission picks one block per group."""
    rng = random.Random(20240115)
    by_name = {g.name: g for g in GROUPS}
    return tuple(tuple(_themed_block(by_name[name], rng) for _ in range(_BLOCKS_PER_THEME)) for name in THEMED_GROUPS)


@cache
def _cercles_by_region() -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for name, (_, region, _) in CERCLES.items():
        grouped.setdefault(region, []).append(name)
    return {region: tuple(names) for region, names in grouped.items()}


def _uuid(rng: random.Random) -> str:
    """A version-4 UUID string from the submission's own random stream (uuid.UUID is slower to build)."""
    bits = (rng.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _kobo_time(moment: datetime, millis: int) -> str:
    return f"{moment.isoformat()}.{millis:03d}+00:00"


def _person(rng: random.Random, sex: str) -> str:
    first = _pick(rng, _FIRST_NAMES_F if sex == "feminin" else _FIRST_NAMES_M)
    return f"{first} {_pick(rng, _LAST_NAMES)}"


def _phone(rng: random.Random) -> str:
    digits = f"{_pick(rng, '6789')}{_between(rng, 0, 9_999_999):07d}"
    style = _between(rng, 0, 2)
    if style == 0:
        return digits
    if style == 1:
        return "+223" + digits
    return " ".join(digits[k:k + 2] for k in range(0, 8, 2))


def _narrative(rng: random.Random, place: str) -> str:
    parts = [_pick(rng, _NARRATIVE_OPENINGS).format(place=place) + ".", _pick(rng, _NARRATIVE_FACTS),
             _pick(rng, _NARRATIVE_ENDINGS)]
    return " ".join(p for p in parts if p)


_VICTIM = "incident/victimes/"
_VICTIM_SEXES = ("feminin", "masculin", "masculin", "inconnu")
_VICTIM_BANDS = ("0_4", "5_11", "12_17", "18_59", "18_59", "18_59", "60_plus", "age_inconnu")
_VICTIM_DISABILITY = ("non", "non", "non", "non", "oui", "nsp")
_VICTIM_STATUS = ("resident", "resident", "pdi", "pdi", "retourne")


def _victim(rng: random.Random, violation: str) -> dict[str, str]:
    sex = "feminin" if violation == "vbg" and rng.random() < 0.9 else _pick(rng, _VICTIM_SEXES)
    band = "12_17" if violation == "recrutement_enfants" else _pick(rng, _VICTIM_BANDS)
    victim = {f"{_VICTIM}sexe_victime": sex, f"{_VICTIM}tranche_age_victime": band,
              f"{_VICTIM}handicap_victime": _pick(rng, _VICTIM_DISABILITY),
              f"{_VICTIM}statut_victime": _pick(rng, _VICTIM_STATUS)}
    if rng.random() < 0.4:
        victim[f"{_VICTIM}nom_victime"] = _person(rng, sex)
    victim[f"{_VICTIM}consequences_victime"] = _pick_many(rng, _choice_names("consequences"), 2)
    return victim


def _incident_details(rng: random.Random) -> dict[str, str]:
    details = {"incident/periode_jour": _pick(rng, _choice_names("periode"))}
    if rng.random() < 0.3:
        details["incident/autres_violations"] = _pick_many(rng, _choice_names("violation"), 2)
    details["incident/auteur_presume"] = _pick(rng, _choice_names("auteur"))
    return details


def _incident_follow_up(rng: random.Random) -> dict[str, str]:
    reported = _pick(rng, ("oui", "non", "non"))
    follow_up = {"incident/incident_signale": reported}
    if reported == "oui":
        follow_up["incident/acteurs_informes"] = _pick_many(rng, _choice_names("acteurs"), 2)
    return follow_up


def _respondent_and_referral(rng: random.Random) -> dict[str, str]:
    sex = _pick(rng, ("feminin", "masculin"))
    block: dict[str, str] = {}
    if rng.random() < 0.85:
        block["repondant/nom_repondant"] = _person(rng, sex)
    if rng.random() < 0.7:
        block["repondant/telephone_repondant"] = _phone(rng)
    block["repondant/sexe_repondant"] = sex
    block["repondant/age_repondant"] = str(_between(rng, 16, 75))
    block["repondant/lien_victime"] = _pick(rng, _choice_names("lien"))
    block["repondant/statut_repondant"] = _pick(rng, _choice_names("statut_pop"))
    needs = _pick(rng, ("oui", "oui", "non"))
    block["referencement/besoin_assistance"] = needs
    if needs == "oui":
        block["referencement/services_references"] = _pick_many(rng, _choice_names("services"), 3)
    block["referencement/reference_effectuee"] = _pick(rng, ("oui", "non"))
    if rng.random() < 0.3:
        block["referencement/observations"] = "Suivi à prévoir. " + _narrative(rng, _pick(rng, _LOCALITIES))
    return block


def _identification(rng: random.Random) -> dict[str, str]:
    return {"identification/organisation": _pick(rng, _choice_names("partenaires")),
            "identification/code_moniteur": f"MON-{_between(rng, 1, 60):03d}",
            "identification/modalite": _pick(rng, _choice_names("modalite")),
            "identification/langue_entretien": _pick(rng, _choice_names("langue")),
            "identification/consentement": "oui"}


_POOL_MAKERS: dict[str, Callable[[random.Random], dict[str, str]]] = {
    "victim_vbg": lambda rng: _victim(rng, "vbg"),
    "victim_child": lambda rng: _victim(rng, "recrutement_enfants"),
    "victim_other": lambda rng: _victim(rng, "autre"),
    "incident_details": _incident_details,
    "incident_follow_up": _incident_follow_up,
    "respondent_referral": _respondent_and_referral,
    "identification": _identification,
}


@cache
def _pool(kind: str) -> tuple[dict[str, str], ...]:
    """Pre-drawn answer blocks of one kind; a submission copies one, which keeps 100k submissions fast."""
    rng = random.Random(f"pool:{kind}")
    return tuple(_POOL_MAKERS[kind](rng) for _ in range(_BLOCKS_PER_THEME))


def _from_pool(rng: random.Random, kind: str) -> dict[str, str]:
    return _pool(kind)[int(rng.random() * _BLOCKS_PER_THEME)]


def _victims(rng: random.Random, violation: str, count: int) -> list[dict[str, str]]:
    kind = {"vbg": "victim_vbg", "recrutement_enfants": "victim_child"}.get(violation, "victim_other")
    return [dict(_from_pool(rng, kind)) for _ in range(count)]


def _incident(rng: random.Random, record: dict, version: str, incident_date: str) -> None:
    violation = _VIOLATION_DRAW.draw(rng)
    if version == V2:
        record["incident/date_incident"] = incident_date
    record.update(_from_pool(rng, "incident_details"))
    record["incident/type_violation"] = violation
    if violation == "autre":
        record["incident/type_violation_autre"] = _pick(rng, ("Profanation de lieu de culte", "Vol de bétail"))
    if violation == "vbg":
        record["incident/type_vbg"] = _pick(rng, _choice_names("type_vbg"))
    count = _VICTIM_COUNT_DRAW.draw(rng)
    record["incident/nb_victimes"] = count
    record["incident/victimes_count"] = count  # pyxform's calculate for a repeat_count expression
    record["incident/victimes"] = _victims(rng, violation, int(count))
    record["incident/description_incident"] = _narrative(rng, record["localisation/localite"])
    record.update(_from_pool(rng, "incident_follow_up"))


def _location(rng: random.Random, record: dict, region: str) -> list[float | None]:
    record["localisation/region"] = region
    record["localisation/cercle"] = _pick(rng, _cercles_by_region()[region])
    if rng.random() < 0.8:
        record["localisation/commune"] = f"Commune de {_pick(rng, _LOCALITIES)}"
    record["localisation/localite"] = _pick(rng, _LOCALITIES)
    record["localisation/type_site"] = _pick(rng, _choice_names("type_site"))
    if rng.random() >= 0.9:
        return [None, None]  # GPS not captured: the key is absent and _geolocation is [null, null]
    lat, lon = _REGION_CENTRES[region]
    point = [round(lat + (rng.random() - 0.5) * 0.8, 6), round(lon + (rng.random() - 0.5) * 0.8, 6)]
    record["localisation/gps"] = f"{point[0]} {point[1]} {_between(rng, 250, 400)}.0 {_between(rng, 3, 25)}.0"
    return point


def make_submission(i: int, rng: random.Random, version: str) -> dict:
    """The i-th submission of the synthetic project, as KoBo API v2 returns it (`_id` = submission_id(i))."""
    check_version(version)
    submitted = FIRST_SUBMISSION_TIME + i * SUBMISSION_EVERY + timedelta(seconds=_between(rng, 0, 240))
    end = submitted - timedelta(seconds=_between(rng, 20, 3600))
    start = end - timedelta(seconds=_between(rng, 600, 3600))
    day = start.date().isoformat()
    incident_date = (start - timedelta(days=_between(rng, 0, 45))).date().isoformat()
    instance = _uuid(rng)
    username = _pick(rng, _ENUMERATORS)
    record: dict = {"_id": submission_id(i), "formhub/uuid": FORM_UUID,
                    "start": _kobo_time(start, _between(rng, 0, 999)), "end": _kobo_time(end, _between(rng, 0, 999)),
                    "today": day, "deviceid": _pick(rng, _DEVICES), "username": username,
                    "identification/date_collecte": day}
    record.update(_from_pool(rng, "identification"))
    geolocation = _location(rng, record, _REGION_DRAW.draw(rng))
    if version == V1:
        record["localisation/date_incident"] = incident_date
    _incident(rng, record, version, incident_date)
    record.update(_from_pool(rng, "respondent_referral"))
    for blocks in _themed_blocks():
        record.update(blocks[int(rng.random() * _BLOCKS_PER_THEME)])
    record["mois_incident"] = incident_date[:7]
    record.update({
        "__version__": version, "meta/instanceID": f"uuid:{instance}", "_xform_id_string": ASSET_UID,
        "_uuid": instance, "_attachments": [], "_status": "submitted_via_web", "_geolocation": geolocation,
        "_submission_time": submitted.isoformat(), "_tags": [], "_notes": [],
        "_validation_status": dict(_pick(rng, _VALIDATION)) if rng.random() < 0.1 else {},
        "_submitted_by": username, "meta/rootUuid": f"uuid:{instance}",
    })
    return record


@dataclass(frozen=True)
class SyntheticSubmissions:
    """A reproducible stream of submissions: the same seed gives the same i-th submission, in any order."""

    seed: int = 0

    def make(self, i: int) -> dict:
        """The i-th submission (its own random stream, so it can be regenerated lazily)."""
        return make_submission(i, random.Random(self.seed * 1_000_003 + i), version_for(i))

    def by_id(self, submission_id_: int) -> dict:
        """The submission with this `_id`."""
        return self.make(submission_index(submission_id_))

    def ids(self, count: int, start: int = 0) -> range:
        """The `_id`s of submissions start..start+count-1."""
        return range(submission_id(start), submission_id(start + count), ID_STEP)

    def iter(self, count: int, start: int = 0) -> Iterator[dict]:
        """Submissions start..start+count-1, generated one at a time."""
        return (self.make(i) for i in range(start, start + count))

