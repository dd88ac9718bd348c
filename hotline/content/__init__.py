"""Loading and checking the hotline's content: ivr_scripts/ (menus, questionnaire, messages)."""
from .script import ContentError, Script, default_script_dir, load_script

__all__ = ["ContentError", "Script", "load_script", "default_script_dir"]
