"""The detect stage: what is derived from stored rows alone, rerunnable whenever the rules change.

relevance.py (is it an AI bill, and how much), topics.py (what kind of AI law), similar.py (who copies
whom), conflicts.py (state laws against federal moves, and against each other), lifecycle.py (what
happens to a law after enactment), and pipeline.py, which applies them to the database and records
each new finding once as an event.
"""
