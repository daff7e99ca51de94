"""The public names the API reference documents (docs/conf.py).

A class's members are the public methods and properties that kmatrix itself
defines (on the class or a kmatrix mixin); what it inherits from
scikit-learn or SciPy is documented there.
"""

import inspect

import kmatrix


def public_members(cls):
    """[(name, "method" | "property"), ...] of the public members kmatrix defines."""
    members = {}
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith("kmatrix"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_"):
                continue
            if isinstance(value, property):
                members[name] = "property"
            elif isinstance(value, (classmethod, staticmethod)) or (
                    inspect.isroutine(value)
                    and getattr(value, "__module__", "").startswith("kmatrix")):
                # (not scikit-learn's set_*_request methods in the class's dict)
                members[name] = "method"
    return sorted(members.items())


def public_classes():
    """{class name: its public members} for the classes of ``kmatrix.__all__``."""
    return {name: public_members(getattr(kmatrix, name)) for name in kmatrix.__all__
            if inspect.isclass(getattr(kmatrix, name))}
