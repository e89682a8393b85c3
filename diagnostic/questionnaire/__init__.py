"""The questionnaire UI shared by respondents (`respond/`) and evaluators (`evaluate/`).

- `controller`: `Flow`, the page controller (landing, resume, page, save, autosave, review,
  submit, receipt) for one response and one actor;
- `pages`: the page view-models (`PageBuilder`, `FieldView`, ...) and progress;
- `forms`: parsing a posted page back into answer paths;
- `views`: registers the eight questionnaire views on a blueprint.
"""
