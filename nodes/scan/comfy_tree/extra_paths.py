"""``extra_model_paths.yaml`` read as ComfyUI's ``utils/extra_config.py`` reads it (see
the package doc), with PyYAML's ``safe_load``."""

import os


class ComfyTreeError(ValueError):
    """A ComfyUI tree's configuration cannot be used; the message names the file and why."""


def read_extra_model_paths(yaml_path) -> list[tuple[str, str, bool]]:
    """``[(folder name, normalised path, is_default)]`` from one extra_model_paths file."""
    import yaml  # PyYAML: ComfyUI requires it too; imported on use (`hash` needs none)

    try:
        with open(yaml_path, encoding="utf-8") as stream:
            config = yaml.safe_load(stream)
    except OSError as exc:
        raise ComfyTreeError(f"Cannot read {yaml_path}: {exc.strerror or exc}.") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ComfyTreeError(f"{yaml_path} is not valid YAML: {exc}") from exc
    if config is None:
        return []
    if not isinstance(config, dict):
        raise ComfyTreeError(f"{yaml_path} must hold named sections of model folders.")
    yaml_dir = os.path.dirname(os.path.abspath(yaml_path))
    found = []
    for section, conf in config.items():
        if conf is None:
            continue
        if not isinstance(conf, dict):
            raise ComfyTreeError(
                f"{yaml_path}: section {section!r} must map folder names to paths."
            )
        conf = dict(conf)
        base_path = conf.pop("base_path", None)
        if base_path:
            base_path = os.path.expandvars(os.path.expanduser(str(base_path)))
            if not os.path.isabs(base_path):
                base_path = os.path.abspath(os.path.join(yaml_dir, base_path))
        is_default = bool(conf.pop("is_default", False))
        for name, value in conf.items():
            if not isinstance(value, str):
                raise ComfyTreeError(
                    f"{yaml_path}: {section}.{name} must be a path or lines of paths."
                )
            for line in value.split("\n"):
                if not line:
                    continue
                if base_path:
                    full = os.path.join(base_path, line)
                elif os.path.isabs(line):
                    full = line
                else:
                    full = os.path.abspath(os.path.join(yaml_dir, line))
                found.append((str(name), os.path.normpath(full), is_default))
    return found
