"""The names of Office Open XML: namespaces, relationship and content types, fixed part names.

One set of constants for every module of the package layer. Relationship types are written in
their transitional form; a relationship is *recognised* by its last path segment (see
:func:`is_rel`), so Strict OOXML's ``http://purl.oclc.org/ooxml/...`` types match too.
"""

from __future__ import annotations

CONTENT_TYPES = "[Content_Types].xml"
ROOT_RELS = "_rels/.rels"

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"  # Strict OOXML: refused
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"

REL_OFFICE_DOCUMENT = NS_R + "/officeDocument"
REL_WORKSHEET = NS_R + "/worksheet"
REL_STYLES = NS_R + "/styles"
REL_SHARED_STRINGS = NS_R + "/sharedStrings"
REL_CALC_CHAIN = NS_R + "/calcChain"
REL_COMMENTS = NS_R + "/comments"
REL_VML = NS_R + "/vmlDrawing"

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"

# The main part's content type -> the only file extension Excel opens that workbook under.
SUFFIX_OF_MAIN = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": ".xlsx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": ".xlsm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": ".xltx",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": ".xltm",
    "application/vnd.ms-excel.addin.macroEnabled.main+xml": ".xlam",
}


def is_rel(rel_type: str | None, wanted: str) -> bool:
    """Whether relationship type ``rel_type`` is ``wanted`` (compared by the last segment, so
    transitional and strict spellings of a type are the same type)."""
    return bool(rel_type) and rel_type.rsplit("/", 1)[-1] == wanted.rsplit("/", 1)[-1]


def rel_part(rels: list[dict[str, str]], rel_type: str) -> str | None:
    """The part of the first relationship of type ``rel_type`` in ``rels`` (as
    ``Package.relationships`` gives them), or None: the styles, the shared strings ..."""
    return next((r["part"] for r in rels if is_rel(r.get("Type"), rel_type) and "part" in r), None)


def q(tag: str, ns: str = NS_MAIN) -> str:
    """The Clark name ``{namespace}tag`` lxml uses."""
    return f"{{{ns}}}{tag}"
