"""Who may use the app and who may change the model.

``roles`` reads the ``[access]`` settings and decides what each signed-in user
may do; ``paths`` keeps the server folders the pages read inside the configured
data roots; ``audit_log`` is the append-only record of model and training changes;
``actions`` performs those changes, each checked and recorded. Nothing here
imports Streamlit: the pages pass the secrets and the user as plain dicts.
"""
