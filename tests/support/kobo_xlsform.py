"""The synthetic KoBo form's XLSForm content: about 150 French/English questions in groups, in two versions."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from tests.support.kobo_form_codes import (
    CERCLES,
    CHOICE_LISTS,
    REGIONS,
    TRANSLATIONS,
    V1,
    V1_DEPLOYED,
    V2,
    V2_DEPLOYED,
    VERSIONS,
    VIOLATIONS,
)

# The form is KoBo asset content (survey, choices, settings, translations) with French and English labels, about 150
# questions in groups, one repeat group of victims, and the fields the mapping needs. Version 2 moved the incident
# date from the `localisation` group to the `incident` group, so its full path differs between versions.

@dataclass(frozen=True)
class Question:
    """One survey row: a question (or calculate) with French and English labels."""

    name: str
    type: str
    fr: str = ""
    en: str = ""
    list_name: str | None = None
    relevant: tuple[str, str] | None = None  # (sibling question, value) it depends on
    upto: int = 10  # integers are drawn in 0..upto
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """A begin_group or begin_repeat block."""

    name: str
    fr: str
    en: str
    children: tuple[Question | Group, ...]
    repeat_count: str | None = None

    @property
    def is_repeat(self) -> bool:
        return self.repeat_count is not None


def _q(name: str, type_: str, fr: str, en: str, list_name: str | None = None, **kwargs: object) -> Question:
    return Question(name, type_, fr, en, list_name, **kwargs)  # type: ignore[arg-type]


def _levels(names_labels: Sequence[tuple[str, str, str]], list_name: str) -> tuple[Question, ...]:
    return tuple(_q(n, "select_one", fr, en, list_name) for n, fr, en in names_labels)


_RISKS = _levels([
    ("risque_enlevement", "Risque d'enlèvement", "Risk of abduction"),
    ("risque_engins_explosifs", "Risque lié aux engins explosifs", "Explosive ordnance risk"),
    ("risque_recrutement_enfants", "Risque de recrutement d'enfants", "Risk of child recruitment"),
    ("risque_vbg", "Risque de VBG", "GBV risk"),
    ("risque_extorsion", "Risque d'extorsion", "Risk of extortion"),
    ("risque_attaque", "Risque d'attaque contre les civils", "Risk of attacks on civilians"),
    ("risque_restriction_mouvement", "Restrictions de mouvement", "Movement restrictions"),
    ("risque_detention", "Risque de détention arbitraire", "Risk of arbitrary detention"),
    ("risque_expulsion", "Risque d'expulsion", "Risk of eviction"),
    ("risque_conflit_intercommunautaire", "Conflits intercommunautaires", "Intercommunal conflict"),
    ("risque_separation_familles", "Séparation des familles", "Family separation"),
    ("risque_travail_enfants", "Travail des enfants", "Child labour"),
    ("risque_mariage_enfants", "Mariage d'enfants", "Child marriage"),
    ("risque_taxation_illegale", "Taxation illégale (zakat forcée)", "Illegal taxation"),
    ("risque_pillage", "Pillage", "Looting"),
    ("risque_destruction_biens", "Destruction de biens", "Destruction of property"),
    ("risque_incendie", "Incendie de villages / greniers", "Burning of villages or granaries"),
    ("risque_menaces", "Menaces et intimidations", "Threats and intimidation"),
    ("risque_discrimination", "Discrimination", "Discrimination"),
    ("risque_exploitation_sexuelle", "Exploitation et abus sexuels", "Sexual exploitation and abuse"),
    ("risque_braquage_routes", "Braquages sur les routes", "Road banditry"),
    ("risque_blocus", "Blocus de la localité", "Blockade of the locality"),
    ("risque_assassinats_cibles", "Assassinats ciblés", "Targeted killings"),
    ("risque_violences_domestiques", "Violences domestiques", "Domestic violence"),
    ("risque_enrolement_force", "Enrôlement forcé d'adultes", "Forced enrolment of adults"),
], "niveau")
_ACCESS = _levels([
    ("acces_sante", "Accès aux soins de santé", "Access to health care"),
    ("acces_education", "Accès à l'éducation", "Access to education"),
    ("acces_eau", "Accès à l'eau potable", "Access to drinking water"),
    ("acces_marche", "Accès au marché", "Access to markets"),
    ("acces_champs", "Accès aux champs", "Access to fields"),
    ("acces_justice", "Accès à la justice", "Access to justice"),
    ("acces_documentation", "Accès à la documentation civile", "Access to civil documentation"),
    ("acces_aide_humanitaire", "Accès à l'aide humanitaire", "Access to humanitarian aid"),
    ("acces_transport", "Accès au transport", "Access to transport"),
    ("acces_paturages", "Accès aux pâturages", "Access to pastures"),
    ("acces_abri", "Accès à un abri", "Access to shelter"),
    ("acces_services_vbg", "Accès aux services VBG", "Access to GBV services"),
    ("acces_soutien_psy", "Accès au soutien psychosocial", "Access to psychosocial support"),
    ("acces_telephonie", "Accès au réseau téléphonique", "Access to the phone network"),
    ("acces_electricite", "Accès à l'électricité", "Access to electricity"),
], "acces")

GROUPS: tuple[Group, ...] = (
    Group("identification", "Identification de la mission", "Mission identification", (
        _q("date_collecte", "date", "Date de la collecte", "Date of data collection"),
        _q("organisation", "select_one", "Organisation partenaire", "Partner organisation", "partenaires"),
        _q("code_moniteur", "text", "Code du moniteur", "Monitor code"),
        _q("modalite", "select_one", "Modalité de collecte", "Collection method", "modalite"),
        _q("langue_entretien", "select_one", "Langue de l'entretien", "Interview language", "langue"),
        _q("note_consentement", "note", "Lire la notice de consentement", "Read the consent notice"),
        _q("consentement", "select_one", "Consentement éclairé obtenu ?", "Informed consent obtained?", "oui_non"),
    )),
    Group("localisation", "Localisation", "Location", (
        _q("region", "select_one", "Région", "Region", "region"),
        _q("cercle", "select_one", "Cercle", "Cercle (district)", "cercle",
           extra={"choice_filter": "region=${region}"}),
        _q("commune", "text", "Commune", "Commune"),
        _q("localite", "text", "Village / quartier / site", "Village / neighbourhood / site"),
        _q("type_site", "select_one", "Type de localité", "Type of locality", "type_site"),
        _q("gps", "geopoint", "Coordonnées GPS de la localité", "GPS coordinates of the locality"),
    )),
    Group("incident", "Description de l'incident", "Incident description", (
        _q("periode_jour", "select_one", "Moment de la journée", "Time of day", "periode"),
        _q("type_violation", "select_one", "Type de violation principale", "Main violation type", "violation"),
        _q("type_violation_autre", "text", "Préciser l'autre violation", "Specify the other violation",
           relevant=("type_violation", "autre")),
        _q("type_vbg", "select_one", "Type de VBG", "Type of GBV", "type_vbg", relevant=("type_violation", "vbg")),
        _q("autres_violations", "select_multiple", "Autres violations associées", "Other associated violations",
           "violation"),
        _q("auteur_presume", "select_one", "Auteur présumé", "Alleged perpetrator", "auteur"),
        _q("nb_victimes", "integer", "Nombre de victimes", "Number of victims"),
        Group("victimes", "Victimes / survivant(e)s", "Victims / survivors", (
            _q("sexe_victime", "select_one", "Sexe de la victime", "Sex of the victim", "sexe"),
            _q("tranche_age_victime", "select_one", "Tranche d'âge", "Age band", "tranche_age"),
            _q("handicap_victime", "select_one", "La victime vit-elle avec un handicap ?",
               "Does the victim live with a disability?", "oui_non_nsp"),
            _q("statut_victime", "select_one", "Statut de la victime", "Status of the victim", "statut_pop"),
            _q("nom_victime", "text", "Nom de la victime (si consentement)", "Name of the victim (with consent)"),
            _q("consequences_victime", "select_multiple", "Conséquences pour la victime",
               "Consequences for the victim", "consequences"),
        ), repeat_count="${nb_victimes}"),
        _q("description_incident", "text", "Description de l'incident", "Incident narrative",
           extra={"appearance": "multiline"}),
        _q("incident_signale", "select_one", "Incident signalé aux autorités ?", "Incident reported to authorities?",
           "oui_non"),
        _q("acteurs_informes", "select_multiple", "Acteurs informés", "Actors informed", "acteurs",
           relevant=("incident_signale", "oui")),
    )),
    Group("repondant", "Informations sur la personne interrogée", "About the respondent", (
        _q("nom_repondant", "text", "Nom et prénom de la personne interrogée", "Respondent's full name"),
        _q("telephone_repondant", "text", "Numéro de téléphone", "Phone number"),
        _q("sexe_repondant", "select_one", "Sexe", "Sex", "sexe"),
        _q("age_repondant", "integer", "Âge", "Age"),
        _q("lien_victime", "select_one", "Lien avec la victime", "Relationship to the victim", "lien"),
        _q("statut_repondant", "select_one", "Statut de la personne interrogée", "Respondent's status", "statut_pop"),
    )),
    Group("referencement", "Référencement et assistance", "Referral and assistance", (
        _q("besoin_assistance", "select_one", "La victime a-t-elle besoin d'assistance ?",
           "Does the victim need assistance?", "oui_non"),
        _q("services_references", "select_multiple", "Services vers lesquels la victime est référée",
           "Services the victim is referred to", "services", relevant=("besoin_assistance", "oui")),
        _q("reference_effectuee", "select_one", "Référencement effectué ?", "Referral made?", "oui_non"),
        _q("observations", "text", "Observations du moniteur", "Monitor's observations"),
    )),
    Group("risques", "Risques de protection dans la localité", "Protection risks in the locality", _RISKS),
    Group("acces_services", "Accès aux services", "Access to services", _ACCESS),
    Group("documentation", "Documentation civile", "Civil documentation", (
        *_levels([("possede_acte_naissance", "Les enfants ont-ils un acte de naissance ?", "Birth certificates?"),
                  ("possede_cni", "Les adultes ont-ils une carte d'identité ?", "ID cards?"),
                  ("possede_carte_nina", "Les adultes ont-ils la carte NINA ?", "NINA cards?"),
                  ("etat_civil_fonctionnel", "Le centre d'état civil fonctionne-t-il ?",
                   "Is the civil registry working?"),
                  ("audiences_foraines", "Des audiences foraines ont-elles eu lieu ?", "Mobile court hearings held?"),
                  ("refus_delivrance", "Refus de délivrance de documents ?", "Documents refused?")], "oui_non_nsp"),
        _q("documents_perdus", "select_multiple", "Documents perdus", "Documents lost", "documents"),
        _q("distance_etat_civil", "integer", "Distance au centre d'état civil (km)",
           "Distance to the civil registry (km)", upto=80),
        _q("cout_documents", "integer", "Coût moyen d'un acte (FCFA)", "Average cost of a document (CFA francs)",
           upto=5000),
    )),
    Group("protection_enfance", "Protection de l'enfance", "Child protection", (
        _q("enfants_non_accompagnes", "integer", "Enfants non accompagnés identifiés", "Unaccompanied children"),
        _q("enfants_separes", "integer", "Enfants séparés identifiés", "Separated children"),
        _q("enfants_hors_ecole", "select_one", "Enfants hors de l'école", "Out-of-school children", "niveau"),
        _q("ecole_fonctionnelle", "select_one", "L'école fonctionne-t-elle ?", "Is the school open?", "oui_non"),
        _q("ecole_occupee", "select_one", "École occupée par des hommes armés ?", "School occupied by armed men?",
           "oui_non_nsp"),
        _q("mariage_precoce_observe", "select_one", "Mariages précoces observés ?", "Early marriages seen?",
           "oui_non_nsp"),
        _q("travail_enfants_observe", "select_one", "Travail des enfants observé ?", "Child labour seen?",
           "oui_non_nsp"),
        _q("espace_ami_enfants", "select_one", "Espace ami des enfants disponible ?", "Child-friendly space?",
           "oui_non"),
        _q("enfants_associes_ga", "select_one", "Enfants associés aux groupes armés ?",
           "Children associated with armed groups?", "oui_non_nsp"),
        _q("detresse_enfants", "select_one", "Niveau de détresse des enfants", "Children's distress level", "niveau"),
    )),
    Group("vbg_risques", "Risques de VBG", "GBV risks", (
        _q("zones_risque_vbg", "select_multiple", "Lieux à risque pour les femmes et les filles",
           "Places of risk for women and girls", "zones"),
        _q("services_vbg_disponibles", "select_multiple", "Services VBG disponibles", "GBV services available",
           "services"),
        _q("femmes_comite", "select_one", "Des femmes siègent-elles au comité ?", "Women on the committee?",
           "oui_non"),
        _q("eclairage_suffisant", "select_one", "Éclairage suffisant la nuit ?", "Enough lighting at night?",
           "oui_non"),
        _q("latrines_separees", "select_one", "Latrines séparées hommes/femmes ?", "Separate latrines?", "oui_non"),
        _q("excision_rapportee", "select_one", "Cas d'excision rapportés ?", "FGM cases reported?", "oui_non_nsp"),
        _q("violence_domestique_rapportee", "select_one", "Violences domestiques rapportées ?",
           "Domestic violence reported?", "oui_non_nsp"),
        _q("deni_ressources_rapporte", "select_one", "Dénis de ressources rapportés ?",
           "Denial of resources reported?", "oui_non_nsp"),
    )),
    Group("engins_explosifs", "Engins explosifs", "Explosive ordnance", (
        _q("presence_engins", "select_one", "Présence d'engins explosifs signalée ?", "Explosive ordnance reported?",
           "oui_non_nsp"),
        _q("type_engins", "select_multiple", "Types d'engins", "Types of ordnance", "engins",
           relevant=("presence_engins", "oui")),
        _q("accidents_recents", "integer", "Accidents dans les 3 derniers mois", "Accidents in the last 3 months",
           upto=4),
        _q("sensibilisation_recue", "select_one", "Sensibilisation aux risques reçue ?", "Risk education received?",
           "oui_non"),
        _q("zones_contaminees", "text", "Zones suspectes", "Suspected areas", relevant=("presence_engins", "oui")),
        _q("marquage_zones", "select_one", "Zones marquées ?", "Areas marked?", "oui_non"),
        _q("victimes_engins_annee", "integer", "Victimes d'engins cette année", "Ordnance victims this year", upto=6),
    )),
    Group("logement_terre", "Logement, terre et biens", "Housing, land and property", (
        _q("type_logement", "select_one", "Type de logement dominant", "Main type of housing", "logement"),
        _q("statut_occupation", "select_one", "Statut d'occupation", "Occupancy status", "occupation"),
        _q("menace_expulsion", "select_one", "Menaces d'expulsion ?", "Eviction threats?", "oui_non"),
        _q("conflit_foncier", "select_one", "Conflits fonciers ?", "Land disputes?", "oui_non"),
        _q("destruction_maisons", "select_one", "Maisons détruites ?", "Houses destroyed?", "oui_non_nsp"),
        _q("acces_terres_agricoles", "select_one", "Accès aux terres agricoles", "Access to farmland", "acces"),
        _q("documents_fonciers", "select_one", "Documents fonciers détenus ?", "Land documents held?", "oui_non_nsp"),
    )),
    Group("deplacement", "Mouvements de population", "Population movements", (
        _q("mouvements_recents", "select_one", "Mouvements dans les 30 derniers jours ?",
           "Movements in the last 30 days?", "oui_non"),
        _q("direction_mouvement", "select_one", "Sens des mouvements", "Direction of movements", "direction",
           relevant=("mouvements_recents", "oui")),
        _q("nb_menages_arrives", "integer", "Ménages arrivés", "Households arrived", upto=120,
           relevant=("mouvements_recents", "oui")),
        _q("nb_menages_partis", "integer", "Ménages partis", "Households left", upto=80,
           relevant=("mouvements_recents", "oui")),
        _q("raisons_deplacement", "select_multiple", "Raisons des mouvements", "Reasons for movement", "raisons",
           relevant=("mouvements_recents", "oui")),
        _q("intention_pdi", "select_one", "Intention des déplacés", "Intention of IDPs", "intention"),
        _q("region_origine", "select_one", "Région d'origine principale", "Main region of origin", "region"),
        _q("besoins_pdi", "select_multiple", "Besoins des déplacés", "Needs of IDPs", "besoins"),
    )),
    Group("cohesion_sociale", "Cohésion sociale", "Social cohesion", (
        _q("tensions_communautes", "select_one", "Tensions entre communautés", "Tensions between communities",
           "niveau"),
        _q("mecanismes_resolution", "select_multiple", "Mécanismes de résolution des conflits",
           "Conflict resolution mechanisms", "mecanismes"),
        _q("relations_pdi_hotes", "select_one", "Relations déplacés / hôtes", "IDP-host relations", "relations"),
        _q("comite_protection", "select_one", "Comité de protection actif ?", "Active protection committee?",
           "oui_non"),
        _q("participation_femmes", "select_one", "Participation des femmes aux décisions",
           "Women's participation in decisions", "niveau"),
        _q("confiance_autorites", "select_one", "Confiance envers les autorités", "Trust in authorities", "niveau"),
        _q("activites_cohesion", "select_one", "Activités de cohésion sociale récentes ?",
           "Recent social cohesion activities?", "oui_non"),
        _q("implication_jeunes", "select_one", "Implication des jeunes", "Youth involvement", "niveau"),
    )),
    Group("besoins", "Besoins prioritaires", "Priority needs", (
        _q("besoins_prioritaires", "select_multiple", "Besoins prioritaires", "Priority needs", "besoins"),
        _q("besoin_1", "select_one", "Premier besoin", "First need", "besoins"),
        _q("besoin_2", "select_one", "Deuxième besoin", "Second need", "besoins"),
        _q("besoin_3", "select_one", "Troisième besoin", "Third need", "besoins"),
        _q("satisfaction_aide", "select_one", "Satisfaction vis-à-vis de l'aide reçue", "Satisfaction with aid",
           "relations"),
        _q("commentaires_communaute", "text", "Commentaires de la communauté", "Community comments"),
    )),
)
_TOP = (
    _q("start", "start", "", ""), _q("end", "end", "", ""), _q("today", "today", "", ""),
    _q("deviceid", "deviceid", "", ""), _q("username", "username", "", ""),
)
_TAIL = (
    _q("mois_incident", "calculate", "", "", extra={"calculation": "format-date(${date_incident}, '%Y-%m')"}),
    _q("note_fin", "note", "Merci. Vérifier les réponses avant d'envoyer.", "Thank you. Check before sending."),
)
_INCIDENT_DATE = _q("date_incident", "date", "Date de l'incident", "Date of the incident")
# The themed groups the generator fills from pre-drawn answer blocks.
THEMED_GROUPS = ("risques", "acces_services", "documentation", "protection_enfance", "vbg_risques", "engins_explosifs",
           "logement_terre", "deplacement", "cohesion_sociale", "besoins")


def _groups_for(version: str) -> tuple[Group, ...]:
    """The groups of a version: the incident date sits in `localisation` (v1) or leads `incident` (v2)."""
    check_version(version)
    groups = []
    for group in GROUPS:
        if group.name == "localisation" and version == V1:
            group = Group(group.name, group.fr, group.en, (*group.children, _INCIDENT_DATE))
        elif group.name == "incident" and version == V2:
            group = Group(group.name, group.fr, group.en, (_INCIDENT_DATE, *group.children))
        groups.append(group)
    return tuple(groups)


def check_version(version: str) -> None:
    """Refuse a version uid this form does not have."""
    if version not in VERSIONS:
        raise ValueError(f"unknown form version {version!r}; expected one of {VERSIONS}")


def _kuid(name: str) -> str:
    # KoBo keeps a row's $kuid across versions, so derive it from the row's name only.
    return hashlib.sha1(name.encode()).hexdigest()[:9]


def _question_row(q: Question, prefix: str) -> dict:
    xpath = f"{prefix}{q.name}"
    row: dict[str, object] = {"name": q.name, "type": q.type, "$kuid": _kuid(xpath)}
    if q.fr:
        row["label"] = [q.fr, q.en]
    row.update({"$qpath": xpath.replace("/", "-"), "$xpath": xpath})
    if q.relevant:
        sibling, value = q.relevant
        row["relevant"] = f"${{{sibling}}}='{value}'"
    row["$autoname"] = q.name
    if q.list_name:
        row["select_from_list_name"] = q.list_name
    row.update(q.extra)
    return row


def _survey_rows(items: Sequence[Question | Group], prefix: str = "") -> list[dict]:
    rows: list[dict] = []
    for item in items:
        if isinstance(item, Question):
            rows.append(_question_row(item, prefix))
            continue
        kind = "repeat" if item.is_repeat else "group"
        head = _question_row(Question(item.name, f"begin_{kind}", item.fr, item.en), prefix)
        if item.repeat_count:
            head["repeat_count"] = item.repeat_count
        rows.append(head)
        rows.extend(_survey_rows(item.children, f"{prefix}{item.name}/"))
        rows.append({"type": f"end_{kind}", "$kuid": _kuid(f"{prefix}{item.name}/end")})
    return rows


def _choice_rows() -> list[dict]:
    rows: list[dict] = []

    def add(list_name: str, name: str, fr: str, en: str, **extra: str) -> None:
        rows.append({"name": name, "$kuid": _kuid(f"{list_name}:{name}"), "label": [fr, en], "list_name": list_name,
                     "$autovalue": name, **extra})

    for name, (_, fr, en) in REGIONS.items():
        add("region", name, fr, en)
    for name, (_, region, label) in CERCLES.items():
        add("cercle", name, label, label, region=region)
    for name, (_, fr, en) in VIOLATIONS.items():
        add("violation", name, fr, en)
    for list_name, choices in CHOICE_LISTS.items():
        for name, fr, en in choices:
            add(list_name, name, fr, en)
    return rows


@cache
def form_content(version: str) -> dict:
    """KoBo asset content of one version: survey, choices, settings, translated, translations."""
    deployed = V1_DEPLOYED if version == V1 else V2_DEPLOYED
    return {
        "schema": "1",
        "survey": _survey_rows((*_TOP, *_groups_for(version), *_TAIL)),
        "choices": _choice_rows(),
        "settings": {"version": f"{VERSIONS.index(version) + 1} ({deployed[:10]} {deployed[11:19]})"},
        "translated": ["label"],
        "translations": list(TRANSLATIONS),
    }


def question_paths(version: str) -> dict[str, str]:
    """Full path -> type of every question row of a version (groups and repeats excluded)."""
    paths: dict[str, str] = {}
    for row in form_content(version)["survey"]:
        if "name" in row and not row["type"].startswith(("begin_", "end_")):
            paths[row["$xpath"]] = row["type"]
    return paths


def form_versions() -> list[tuple[str, dict, str]]:
    """(version uid, content, date deployed) for both versions, oldest first."""
    return [(V1, form_content(V1), V1_DEPLOYED), (V2, form_content(V2), V2_DEPLOYED)]
