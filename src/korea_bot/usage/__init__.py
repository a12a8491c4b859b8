"""Usage: the question log behind the gaps report (what is asked, what goes unanswered, what is voted down)."""
