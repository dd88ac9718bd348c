"""Loading and checking the hotline's content: ivr_scripts/ (menus, questionnaire, messages)."""
from .script import ContentError, Script, load_script, default_script_dir

__all__ = ["ContentError", "Script", "load_script", "default_script_dir"]
