"""A synthetic Mali protection-monitoring KoBo form (two versions) and a fast, seeded submission generator."""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.kobo_server import KoboServer

# The form is KoBo asset content (survey, choices, settings, translations) with French and English labels, about 150
# questions in groups, one repeat group of victims, and the fields the mapping needs. Version 2 moved the incident
# date from the `localisation` group to the `incident` group, so its full path differs between versions.
# Submissions look like KoBo API v2 data: numbers as strings, unanswered questions absent, select_multiple
# space-separated, the repeat as a list of dicts with full-path keys, `_submission_time` in UTC without a zone.
ASSET_UID = "aPmMaliQx7ProtMon24Lz9"
ASSET_NAME = "Monitoring de protection - Mali (incidents)"
FORM_UUID = "3f8e0a4c9b1d4e6fa2c57d90e1b3a8f4"
V1 = "vB7kQm3RzT9xWcY2pL4nHd"
V2 = "vJ5sNa8XeU2gF6rKq9tMwP"
VERSIONS = (V1, V2)
V1_DEPLOYED = "2024-01-15T09:12:41.551203Z"
V2_DEPLOYED = "2024-03-01T07:40:05.118734Z"
TRANSLATIONS = ["Français (fr)", "English (en)"]

FIRST_ID = 51_230_001
# KoBo ids are global to the server, so one project's ids have gaps (other projects' submissions in between).
ID_STEP = 2
FIRST_SUBMISSION_TIME = datetime(2024, 1, 16, 8, 0, 0)
SUBMISSION_EVERY = timedelta(minutes=5)
V2_FROM_INDEX = int((datetime(2024, 3, 1, 8) - FIRST_SUBMISSION_TIME) / SUBMISSION_EVERY)

# Paths the harmonised mapping reads, per form version.
PATHS: dict[str, dict[str, str]] = {
    V1: {
        "incident_date": "localisation/date_incident",
        "region": "localisation/region",
        "cercle": "localisation/cercle",
        "violation": "incident/type_violation",
        "victims_count": "incident/nb_victimes",
        "victims_repeat": "incident/victimes",
        "victim_sex": "incident/victimes/sexe_victime",
        "victim_age_band": "incident/victimes/tranche_age_victime",
        "victim_disability": "incident/victimes/handicap_victime",
        "victim_name": "incident/victimes/nom_victime",
        "respondent_name": "repondant/nom_repondant",
        "respondent_phone": "repondant/telephone_repondant",
        "gps": "localisation/gps",
        "narrative": "incident/description_incident",
        "observations": "referencement/observations",
    },
}
PATHS[V2] = {**PATHS[V1], "incident_date": "incident/date_incident"}
PERSONAL_PATHS = ("victim_name", "respondent_name", "respondent_phone", "gps", "narrative", "observations")

# Region choices: P-codes for the regions the form started with, names for those added later by name.
REGIONS: dict[str, tuple[str, str, str]] = {  # choice name -> (P-code, French label, English label)
    "ML01": ("ML01", "Kayes", "Kayes"),
    "ML02": ("ML02", "Koulikoro", "Koulikoro"),
    "ML03": ("ML03", "Sikasso", "Sikasso"),
    "ML04": ("ML04", "Ségou", "Segou"),
    "ML05": ("ML05", "Mopti", "Mopti"),
    "tombouctou": ("ML06", "Tombouctou", "Timbuktu"),
    "gao": ("ML07", "Gao", "Gao"),
    "kidal": ("ML08", "Kidal", "Kidal"),
    "ML09": ("ML09", "District de Bamako", "Bamako District"),
    "menaka": ("ML10", "Ménaka", "Menaka"),
}
CERCLES: dict[str, tuple[str, str, str]] = {  # choice name -> (P-code, region choice name, label)
    "ML0101": ("ML0101", "ML01", "Bafoulabé"), "ML0102": ("ML0102", "ML01", "Diéma"),
    "ML0103": ("ML0103", "ML01", "Kayes"), "ML0104": ("ML0104", "ML01", "Kéniéba"),
    "ML0105": ("ML0105", "ML01", "Kita"), "ML0106": ("ML0106", "ML01", "Nioro du Sahel"),
    "ML0107": ("ML0107", "ML01", "Yélimané"),
    "ML0201": ("ML0201", "ML02", "Banamba"), "ML0202": ("ML0202", "ML02", "Dioïla"),
    "ML0203": ("ML0203", "ML02", "Kangaba"), "ML0204": ("ML0204", "ML02", "Kati"),
    "ML0205": ("ML0205", "ML02", "Kolokani"), "ML0206": ("ML0206", "ML02", "Koulikoro"),
    "ML0207": ("ML0207", "ML02", "Nara"),
    "ML0301": ("ML0301", "ML03", "Bougouni"), "ML0302": ("ML0302", "ML03", "Kadiolo"),
    "ML0303": ("ML0303", "ML03", "Kolondiéba"), "ML0304": ("ML0304", "ML03", "Koutiala"),
    "ML0305": ("ML0305", "ML03", "Sikasso"), "ML0306": ("ML0306", "ML03", "Yanfolila"),
    "ML0307": ("ML0307", "ML03", "Yorosso"),
    "ML0401": ("ML0401", "ML04", "Baraouéli"), "ML0402": ("ML0402", "ML04", "Bla"),
    "ML0403": ("ML0403", "ML04", "Macina"), "ML0404": ("ML0404", "ML04", "Niono"),
    "ML0405": ("ML0405", "ML04", "San"), "ML0406": ("ML0406", "ML04", "Ségou"),
    "ML0407": ("ML0407", "ML04", "Tominian"),
    "ML0501": ("ML0501", "ML05", "Bandiagara"), "ML0502": ("ML0502", "ML05", "Bankass"),
    "ML0503": ("ML0503", "ML05", "Djenné"), "ML0504": ("ML0504", "ML05", "Douentza"),
    "ML0505": ("ML0505", "ML05", "Koro"), "ML0506": ("ML0506", "ML05", "Mopti"),
    "ML0507": ("ML0507", "ML05", "Ténenkou"), "ML0508": ("ML0508", "ML05", "Youwarou"),
    "dire": ("ML0601", "tombouctou", "Diré"), "goundam": ("ML0602", "tombouctou", "Goundam"),
    "gourma_rharous": ("ML0603", "tombouctou", "Gourma-Rharous"),
    "niafunke": ("ML0604", "tombouctou", "Niafunké"), "tombouctou": ("ML0605", "tombouctou", "Tombouctou"),
    "ansongo": ("ML0701", "gao", "Ansongo"), "bourem": ("ML0702", "gao", "Bourem"), "gao": ("ML0703", "gao", "Gao"),
    "abeibara": ("ML0801", "kidal", "Abeïbara"), "kidal": ("ML0802", "kidal", "Kidal"),
    "tessalit": ("ML0803", "kidal", "Tessalit"), "tin_essako": ("ML0804", "kidal", "Tin-Essako"),
    "ML0901": ("ML0901", "ML09", "Bamako"),
    "menaka": ("ML1001", "menaka", "Ménaka"), "anderamboukane": ("ML1002", "menaka", "Andéramboukane"),
    "inekar": ("ML1003", "menaka", "Inékar"), "tidermene": ("ML1004", "menaka", "Tidermène"),
}
VIOLATIONS: dict[str, tuple[str, str, str]] = {  # choice name -> (harmonised code, French, English)
    "meurtre": ("killing", "Meurtre / assassinat", "Killing"),
    "blessure": ("injury", "Atteinte à l'intégrité physique (blessure)", "Injury"),
    "enlevement": ("abduction", "Enlèvement", "Abduction"),
    "arrestation_arbitraire": ("arbitrary_arrest", "Arrestation / détention arbitraire", "Arbitrary arrest"),
    "extorsion": ("extortion", "Extorsion de biens / taxation illégale", "Extortion"),
    "vbg": ("gbv", "Violence basée sur le genre", "Gender-based violence"),
    "recrutement_enfants": ("child_recruitment", "Recrutement d'enfants", "Child recruitment"),
    "attaque_civils_biens": ("attack_on_civilians", "Attaque contre des civils ou leurs biens", "Attack on civilians"),
    "deplacement_force": ("forced_displacement", "Déplacement forcé", "Forced displacement"),
    "restriction_mouvement": ("movement_restriction", "Restriction de mouvement", "Movement restriction"),
    "incident_engins_explosifs": ("explosive_ordnance", "Incident lié aux engins explosifs", "Explosive ordnance"),
    "autre": ("other", "Autre", "Other"),
}

_REGION_CENTRES = {"ML01": (14.0, -10.5), "ML02": (13.8, -7.5), "ML03": (11.5, -6.5), "ML04": (13.8, -5.8),
                   "ML05": (14.5, -3.8), "tombouctou": (17.5, -3.0), "gao": (16.3, 0.0), "kidal": (19.5, 1.3),
                   "ML09": (12.64, -8.0), "menaka": (15.9, 2.4)}
_REGION_WEIGHTS = {"ML01": 3, "ML02": 5, "ML03": 3, "ML04": 15, "ML05": 30, "tombouctou": 15, "gao": 12,
                   "kidal": 4, "ML09": 3, "menaka": 10}
_VIOLATION_WEIGHTS = {"meurtre": 8, "blessure": 10, "enlevement": 9, "arrestation_arbitraire": 6, "extorsion": 14,
                      "vbg": 12, "recrutement_enfants": 3, "attaque_civils_biens": 12, "deplacement_force": 9,
                      "restriction_mouvement": 8, "incident_engins_explosifs": 5, "autre": 4}

# Choice lists: list name -> [(name, French, English)].
_LISTS: dict[str, list[tuple[str, str, str]]] = {
    "oui_non": [("oui", "Oui", "Yes"), ("non", "Non", "No")],
    "oui_non_nsp": [("oui", "Oui", "Yes"), ("non", "Non", "No"), ("nsp", "Ne sait pas", "Don't know")],
    "sexe": [("feminin", "Féminin", "Female"), ("masculin", "Masculin", "Male"), ("inconnu", "Inconnu", "Unknown")],
    "tranche_age": [("0_4", "0-4 ans", "0-4 years"), ("5_11", "5-11 ans", "5-11 years"),
                    ("12_17", "12-17 ans", "12-17 years"), ("18_59", "18-59 ans", "18-59 years"),
                    ("60_plus", "60 ans et plus", "60 years and over"), ("age_inconnu", "Âge inconnu", "Unknown age")],
    "niveau": [("eleve", "Élevé", "High"), ("moyen", "Moyen", "Medium"), ("faible", "Faible", "Low"),
               ("aucun", "Aucun", "None"), ("nsp", "Ne sait pas", "Don't know")],
    "acces": [("total", "Accès total", "Full access"), ("partiel", "Accès partiel", "Partial access"),
              ("aucun", "Pas d'accès", "No access"), ("nsp", "Ne sait pas", "Don't know")],
    "statut_pop": [("resident", "Résident", "Resident"), ("pdi", "Personne déplacée interne", "IDP"),
                   ("retourne", "Retourné", "Returnee"), ("refugie", "Réfugié", "Refugee"),
                   ("rapatrie", "Rapatrié", "Repatriated")],
    "auteur": [("gane", "Groupe armé non étatique", "Non-state armed group"),
               ("fds", "Forces de défense et de sécurité", "Defence and security forces"),
               ("milice", "Milice communautaire", "Community militia"), ("bandits", "Bandits armés", "Armed bandits"),
               ("communaute", "Membre de la communauté", "Community member"), ("inconnu", "Inconnu", "Unknown")],
    "type_vbg": [("viol", "Viol", "Rape"), ("agression_sexuelle", "Agression sexuelle", "Sexual assault"),
                 ("agression_physique", "Agression physique", "Physical assault"),
                 ("mariage_force", "Mariage forcé", "Forced marriage"),
                 ("deni_ressources", "Déni de ressources", "Denial of resources"),
                 ("violence_psychologique", "Violence psychologique", "Psychological abuse")],
    "consequences": [("blessure_physique", "Blessure physique", "Physical injury"),
                     ("detresse_psy", "Détresse psychologique", "Psychological distress"),
                     ("perte_biens", "Perte de biens", "Loss of property"),
                     ("deplacement", "Déplacement", "Displacement"),
                     ("deces", "Décès", "Death"), ("aucune", "Aucune", "None")],
    "acteurs": [("police", "Police / gendarmerie", "Police / gendarmerie"),
                ("autorites", "Autorités administratives", "Administrative authorities"),
                ("chefs", "Chefs traditionnels", "Traditional leaders"),
                ("humanitaires", "Acteurs humanitaires", "Humanitarian actors"), ("minusma", "MINUSMA", "MINUSMA")],
    "lien": [("victime", "Victime elle-même", "The victim"), ("famille", "Membre de la famille", "Family member"),
             ("temoin", "Témoin", "Witness"), ("leader", "Leader communautaire", "Community leader"),
             ("autre", "Autre", "Other")],
    "services": [("medical", "Médical", "Medical"), ("psychosocial", "Psychosocial", "Psychosocial"),
                 ("juridique", "Juridique", "Legal"), ("abri", "Abri", "Shelter"),
                 ("vbg", "Prise en charge VBG", "GBV case management"),
                 ("protection_enfance", "Protection de l'enfance", "Child protection"),
                 ("cash", "Assistance monétaire", "Cash assistance")],
    "partenaires": [("drc", "DRC", "DRC"), ("nrc", "NRC", "NRC"), ("irc", "IRC", "IRC"),
                    ("amsode", "AMSODE", "AMSODE"), ("cri_2002", "CRI 2002", "CRI 2002"),
                    ("intersos", "INTERSOS", "INTERSOS"), ("unhcr", "HCR", "UNHCR")],
    "modalite": [("entretien_individuel", "Entretien individuel", "Individual interview"),
                 ("groupe_discussion", "Groupe de discussion", "Focus group"),
                 ("informateur_cle", "Informateur clé", "Key informant")],
    "langue": [("bambara", "Bambara", "Bambara"), ("francais", "Français", "French"), ("peul", "Fulfulde", "Fulfulde"),
               ("songhai", "Songhaï", "Songhai"), ("tamasheq", "Tamasheq", "Tamasheq"), ("arabe", "Arabe", "Arabic")],
    "type_site": [("village", "Village", "Village"), ("site_pdi", "Site de déplacés", "IDP site"),
                  ("famille_accueil", "Familles d'accueil", "Host families"), ("ville", "Ville / quartier", "Town")],
    "periode": [("matin", "Matin", "Morning"), ("apres_midi", "Après-midi", "Afternoon"),
                ("soir", "Soir", "Evening"), ("nuit", "Nuit", "Night")],
    "documents": [("acte_naissance", "Acte de naissance", "Birth certificate"),
                  ("cni", "Carte d'identité", "ID card"), ("carte_nina", "Carte NINA", "NINA card"),
                  ("titre_foncier", "Titre foncier", "Land title"), ("aucun", "Aucun", "None")],
    "zones": [("point_eau", "Point d'eau", "Water point"), ("marche", "Marché", "Market"),
              ("champs", "Champs", "Fields"), ("latrines", "Latrines", "Latrines"), ("route", "Route", "Road"),
              ("domicile", "Domicile", "Home"), ("ecole", "École", "School")],
    "engins": [("mine", "Mine", "Landmine"), ("eei", "Engin explosif improvisé", "IED"),
               ("reste_explosif", "Reste explosif de guerre", "Explosive remnant of war"),
               ("nsp", "Ne sait pas", "Don't know")],
    "logement": [("maison_dur", "Maison en dur", "Brick house"), ("banco", "Maison en banco", "Mud house"),
                 ("abri_fortune", "Abri de fortune", "Makeshift shelter"), ("tente", "Tente", "Tent")],
    "occupation": [("proprietaire", "Propriétaire", "Owner"), ("locataire", "Locataire", "Tenant"),
                   ("hebergement_gratuit", "Hébergé gratuitement", "Hosted for free"),
                   ("occupation_informelle", "Occupation informelle", "Informal occupation")],
    "direction": [("arrivee", "Arrivées", "Arrivals"), ("depart", "Départs", "Departures"),
                  ("les_deux", "Les deux", "Both")],
    "raisons": [("conflit", "Conflit armé", "Armed conflict"), ("insecurite", "Insécurité", "Insecurity"),
                ("inondation", "Inondation", "Flood"), ("secheresse", "Sécheresse", "Drought"),
                ("economique", "Raisons économiques", "Economic reasons"), ("autre", "Autre", "Other")],
    "intention": [("rester", "Rester", "Stay"), ("retourner", "Retourner", "Return"),
                  ("partir_ailleurs", "Partir ailleurs", "Move elsewhere"), ("nsp", "Ne sait pas", "Don't know")],
    "besoins": [("abri", "Abri", "Shelter"), ("nourriture", "Nourriture", "Food"), ("eau", "Eau", "Water"),
                ("sante", "Santé", "Health"), ("education", "Éducation", "Education"),
                ("protection", "Protection", "Protection"), ("documentation", "Documentation", "Documentation"),
                ("moyens_subsistance", "Moyens de subsistance", "Livelihoods")],
    "relations": [("bonnes", "Bonnes", "Good"), ("moyennes", "Moyennes", "Fair"), ("mauvaises", "Mauvaises", "Poor")],
    "mecanismes": [("chefs", "Chefs traditionnels", "Traditional leaders"),
                   ("religieux", "Leaders religieux", "Religious leaders"), ("justice", "Justice", "Courts"),
                   ("comites", "Comités de paix", "Peace committees"), ("aucun", "Aucun", "None")],
}


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

_GROUPS: tuple[Group, ...] = (
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
_THEMED = ("risques", "acces_services", "documentation", "protection_enfance", "vbg_risques", "engins_explosifs",
           "logement_terre", "deplacement", "cohesion_sociale", "besoins")


def _groups_for(version: str) -> tuple[Group, ...]:
    """The groups of a version: the incident date sits in `localisation` (v1) or leads `incident` (v2)."""
    check_version(version)
    groups = []
    for group in _GROUPS:
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
    for list_name, choices in _LISTS.items():
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


# --- submissions -------------------------------------------------------------------------------------------

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
    return tuple(name for name, _, _ in _LISTS[list_name])


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
    by_name = {g.name: g for g in _GROUPS}
    return tuple(tuple(_themed_block(by_name[name], rng) for _ in range(_BLOCKS_PER_THEME)) for name in _THEMED)


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


def form_versions() -> list[tuple[str, dict, str]]:
    """(version uid, content, date deployed) for both versions, oldest first."""
    return [(V1, form_content(V1), V1_DEPLOYED), (V2, form_content(V2), V2_DEPLOYED)]


def install_protection_form(server: KoboServer, count: int, *, seed: int = 0, start: int = 0,
                            produce: Callable[[int], dict] | None = None) -> SyntheticSubmissions:
    """Add the synthetic asset (both versions) and `count` lazily generated submissions to a KoboServer."""
    from tests.support.kobo_server import FormVersion

    synthetic = SyntheticSubmissions(seed)
    if not server.has_asset(ASSET_UID):
        versions = [FormVersion(uid, content, deployed) for uid, content, deployed in form_versions()]
        server.add_asset(ASSET_UID, ASSET_NAME, versions, form_uuid=FORM_UUID, owner="imo_mali")
    server.add_lazy(ASSET_UID, synthetic.ids(count, start), produce or synthetic.by_id)
    return synthetic

