"""Key names, question types and lookup tables of the native format and the XLSForm import."""
from __future__ import annotations

import re
from types import MappingProxyType

# Top-level sections.
SETTINGS = "settings"
CHOICES = "choices"
SURVEY = "survey"
TOP_KEYS = frozenset({SETTINGS, CHOICES, SURVEY})

# Settings keys.
SETTINGS_KEYS = frozenset({"id", "version", "title", "languages", "default_language", "unit"})
UNITS = frozenset({"institution", "state"})
DEFAULT_LANGUAGES = ("es",)

# Element keys.
TYPE = "type"
NAME = "name"
LABEL = "label"
HINT = "hint"
REQUIRED = "required"
RELEVANT = "relevant"
CONSTRAINT = "constraint"
CONSTRAINT_MESSAGE = "constraint_message"
CALCULATION = "calculation"
DEFAULT = "default"
CHOICE_FILTER = "choice_filter"
APPEARANCE = "appearance"
PARAMETERS = "parameters"
READ_ONLY = "read_only"
CHILDREN = "children"
REPEAT_COUNT = "repeat_count"
MIN_COUNT = "min_count"
MAX_COUNT = "max_count"

EXPRESSION_KEYS = (RELEVANT, CONSTRAINT, CALCULATION, CHOICE_FILTER)
QUESTION_KEYS = frozenset(
    {
        TYPE,
        NAME,
        LABEL,
        HINT,
        REQUIRED,
        RELEVANT,
        CONSTRAINT,
        CONSTRAINT_MESSAGE,
        CALCULATION,
        DEFAULT,
        CHOICE_FILTER,
        APPEARANCE,
        PARAMETERS,
        READ_ONLY,
    }
)
GROUP_KEYS = frozenset({TYPE, NAME, LABEL, HINT, RELEVANT, CHILDREN, APPEARANCE})
REPEAT_KEYS = GROUP_KEYS | {REPEAT_COUNT, MIN_COUNT, MAX_COUNT}

# Question types.
GROUP = "group"
REPEAT = "repeat"
TEXT = "text"
INTEGER = "integer"
DECIMAL = "decimal"
DATE = "date"
SELECT_ONE = "select_one"
SELECT_MULTIPLE = "select_multiple"
YES_NO = "yes_no"
YES_NO_NA = "yes_no_na"
URL = "url"
RANGE = "range"
LIKERT = "likert"
NOTE = "note"
CALCULATE = "calculate"

QUESTION_TYPES = frozenset(
    {TEXT, INTEGER, DECIMAL, DATE, SELECT_ONE, SELECT_MULTIPLE, YES_NO, YES_NO_NA, URL, RANGE, LIKERT, NOTE, CALCULATE}
)
LIST_TYPES = frozenset({SELECT_ONE, SELECT_MULTIPLE, LIKERT})
SINGLE_CHOICE_TYPES = frozenset({SELECT_ONE, YES_NO, YES_NO_NA, LIKERT})
CHOICE_TYPES = SINGLE_CHOICE_TYPES | {SELECT_MULTIPLE}
NO_ANSWER_TYPES = frozenset({NOTE, CALCULATE})

# XLSForm/ODK types Apertura does not collect.
UNSUPPORTED_TYPES = frozenset(
    {
        "geopoint", "geotrace", "geoshape", "image", "audio", "video", "file", "barcode",
        "background-audio", "select_one_from_file", "select_multiple_from_file", "rank",
        "acknowledge", "time", "datetime", "start", "end", "today", "deviceid", "phonenumber",
        "username", "email", "audit", "hidden", "xml-external", "csv-external", "start-geopoint",
        "trigger", "begin_repeat_nested",
    }
)

# Built-in choice lists: name -> ((choice name, {lang: label}), ...).
YES_NO_CHOICES = (("yes", {"es": "Sí", "en": "Yes"}), ("no", {"es": "No", "en": "No"}))
YES_NO_NA_CHOICES = (*YES_NO_CHOICES, ("na", {"es": "No aplica", "en": "Not applicable"}))
BUILTIN_LISTS = MappingProxyType({YES_NO: YES_NO_CHOICES, YES_NO_NA: YES_NO_NA_CHOICES})

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]+)?\Z")

# A language kept by name when an XLSForm header names one without a known code
# (`label::Klingon`); codes for known names live in surveys/data/languages.yaml.
LANGUAGE_NAME = re.compile(r"[^\W\d_][\w .()'\-]{0,39}\Z")

TRUE_WORDS = frozenset({"yes", "true", "true()", "1", "sí", "si"})
FALSE_WORDS = frozenset({"no", "false", "false()", "0", ""})
