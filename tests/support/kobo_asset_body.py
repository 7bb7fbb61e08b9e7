"""The loopback KoBo's asset and version bodies, with the same keys and value types as the recorded ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.kobo_assets import Asset, FormVersion


def version_summary(asset: Asset, version: FormVersion, root: str) -> dict:
    return {"uid": version.uid, "url": f"{root}/api/v2/assets/{asset.uid}/versions/{version.uid}/",
            "content_hash": version.content_hash, "date_deployed": version.date_deployed or False,
            "date_modified": version.modified}


def _summary(content: dict) -> dict:
    survey = content.get("survey", [])
    languages = [t for t in content.get("translations", []) if t]
    labels = [row["label"][0] for row in survey if row.get("label")][:5]
    columns = sorted({k for row in survey for k in row if not k.startswith("$")})
    return {"geo": any(row.get("type") in ("geopoint", "geotrace", "geoshape") for row in survey),
            "labels": labels, "columns": columns, "lock_all": False, "lock_any": False, "languages": languages,
            "row_count": len(survey), "default_translation": languages[0] if languages else None}


def _last_submission_time(asset: Asset) -> str | None:
    if not asset.ids:
        return None
    last = asset.get(asset.ids[-1]).get("_submission_time")
    return f"{last}.000000Z" if last else None


def asset_body(asset: Asset, root: str) -> dict:
    """An asset as kpi's AssetSerializer renders it (same keys and value types as the recorded ones)."""
    api = f"{root}/api/v2"
    url = f"{api}/assets/{asset.uid}/"
    current = asset.versions[-1]
    deployed = [v for v in asset.versions if v.date_deployed]
    enketo = "https://ee.kobo.example.org"
    kobocat = f"https://kc.kobo.example.org/{asset.owner}"
    permissions = ("view_asset", "change_asset", "manage_asset", "add_submissions", "view_submissions",
                   "partial_submissions", "change_submissions", "delete_submissions", "validate_submissions")
    return {
        "url": url, "owner": f"{api}/users/{asset.owner}/", "owner__username": asset.owner, "parent": None,
        "settings": {"sector": {"label": "Protection", "value": "Protection"},
                     "country": [{"label": "Mali", "value": "MLI"}], "description": "",
                     "organization": "Protection Cluster Mali", "country_codes": ["MLI"]},
        "asset_type": "survey", "files": [], "summary": _summary(current.content),
        "date_created": asset.date_created, "date_modified": current.modified,
        "date_deployed": deployed[0].date_deployed if deployed else None,
        "version_id": current.uid, "version__content_hash": current.content_hash,
        "version_count": len(asset.versions), "has_deployment": bool(deployed),
        "deployed_version_id": deployed[-1].uid if deployed else None,
        "deployed_versions": {"count": len(deployed), "next": None, "previous": None,
                              "results": [version_summary(asset, v, root) for v in reversed(deployed)]},
        "deployment__links": {"url": f"{enketo}/x7Ab3Qz", "single_url": f"{enketo}/single/x7Ab3Qz",
                              "single_once_url": f"{enketo}/single/5c1e2f", "offline_url": f"{enketo}/x/x7Ab3Qz",
                              "preview_url": f"{enketo}/preview/x7Ab3Qz", "iframe_url": f"{enketo}/i/x7Ab3Qz",
                              "single_iframe_url": f"{enketo}/single/i/x7Ab3Qz",
                              "single_once_iframe_url": f"{enketo}/single/i/5c1e2f"},
        "deployment__active": bool(deployed),
        "deployment__data_download_links": {
            "xls_legacy": f"{kobocat}/exports/{asset.uid}/xls/", "csv_legacy": f"{kobocat}/exports/{asset.uid}/csv/",
            "zip_legacy": f"{kobocat}/exports/{asset.uid}/zip/", "kml_legacy": f"{kobocat}/exports/{asset.uid}/kml/",
            "xls": f"{kobocat}/reports/{asset.uid}/export.xlsx", "csv": f"{kobocat}/reports/{asset.uid}/export.csv"},
        "deployment__submission_count": len(asset.ids),
        "deployment__last_submission_time": _last_submission_time(asset),
        "deployment__encrypted": False, "deployment__uuid": asset.form_uuid,
        "deployment_status": "deployed" if deployed else "draft",
        "report_styles": {"default": {}, "specified": {}, "kuid_names": {}}, "report_custom": {},
        "advanced_features": {},
        "advanced_submission_schema": {"type": "object",
                                       "$description": "no advanced features activated for this form"},
        "analysis_form_json": {"engines": {}, "additional_fields": []}, "map_styles": {}, "map_custom": {},
        "content": current.content,
        "downloads": [{"format": "xls", "url": f"{api}/assets/{asset.uid}.xls"},
                      {"format": "xml", "url": f"{api}/assets/{asset.uid}.xml"}],
        "embeds": [{"format": "xls", "url": f"{url}xls/"}, {"format": "xform", "url": f"{url}xform/"}],
        "xform_link": f"{url}xform/", "hooks_link": f"{url}hooks/", "tag_string": "", "uid": asset.uid,
        "kind": "asset", "xls_link": f"{url}xls/", "name": asset.name,
        "assignable_permissions": [{"url": f"{api}/permissions/{p}/", "label": p.replace("_", " ").capitalize()}
                                   for p in permissions],
        "permissions": [{"url": f"{url}permission-assignments/p{n:021d}/", "user": f"{api}/users/{asset.owner}/",
                         "permission": f"{api}/permissions/{p}/", "label": p.replace("_", " ").capitalize()}
                        for n, p in enumerate(permissions)],
        "effective_permissions": [{"codename": p} for p in permissions],
        "exports": f"{url}exports/", "export_settings": [], "data": f"{url}data/", "children": {"count": 0},
        "subscribers_count": 0, "status": "private", "access_types": None, "data_sharing": {},
        "paired_data": f"{url}paired-data/", "project_ownership": None, "owner_label": asset.owner,
        "last_modified_by": None,
    }

