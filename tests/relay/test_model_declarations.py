"""What relay_server/models.py tells the type checker in its ``if TYPE_CHECKING:`` blocks (the
``<name>_id`` attribute of each foreign key, and the backref queries) must be what peewee really
makes at class creation: mypy cannot check those lines against peewee, so this test does. A
renamed foreign key, a changed primary key type or a dropped backref fails here, not in a
request."""

from __future__ import annotations

import ast
import inspect

import peewee as pw

from relay_server import models


def _declarations() -> dict[str, dict[str, str]]:
    """``{model: {attribute: annotation}}`` from the TYPE_CHECKING blocks of each model class."""
    tree = ast.parse(inspect.getsource(models))
    found: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            if isinstance(statement, ast.If) and ast.unparse(statement.test) == "TYPE_CHECKING":
                for declared in statement.body:
                    assert isinstance(declared, ast.AnnAssign) and isinstance(declared.target, ast.Name)
                    found.setdefault(node.name, {})[declared.target.id] = ast.unparse(declared.annotation)
    return found


def _foreign_keys(model: type[pw.Model]) -> list[pw.ForeignKeyField]:
    return [f for f in model._meta.sorted_fields if isinstance(f, pw.ForeignKeyField)]


def _python_type(fk: pw.ForeignKeyField) -> str:
    """The type of ``<fk>_id``: the referenced key's, ``| None`` when the key may be empty."""
    target = fk.rel_field
    name = "int" if isinstance(target, pw.IntegerField) else "str" if isinstance(target, pw.CharField) else "?"
    return f"{name} | None" if fk.null else name


def test_each_foreign_key_id_is_declared_with_the_type_peewee_gives_it():
    declared = _declarations()
    for model in models.ALL_MODELS:
        for fk in _foreign_keys(model):
            annotation = declared.get(model.__name__, {}).get(fk.object_id_name)
            assert annotation == _python_type(fk), f"{model.__name__}.{fk.object_id_name}"
            assert fk.object_id_name in vars(model), "peewee makes it as a class attribute"


def test_each_declaration_is_an_attribute_peewee_really_makes():
    backrefs = {
        (fk.rel_model.__name__, fk.backref): model.__name__
        for model in models.ALL_MODELS
        for fk in _foreign_keys(model)
        if fk.backref
    }
    declared = _declarations()
    assert declared, "the models declare nothing: the parsing above no longer finds their blocks"
    for model_name, attributes in declared.items():
        model = getattr(models, model_name)
        ids = {fk.object_id_name for fk in _foreign_keys(model)}
        for attribute, annotation in attributes.items():
            if attribute in ids:
                continue
            assert (model_name, attribute) in backrefs, (
                f"{model_name}.{attribute} is neither a foreign key id nor a backref"
            )
            assert annotation == f"pw.ModelSelect[{backrefs[model_name, attribute]}]", f"{model_name}.{attribute}"
            assert isinstance(getattr(model, attribute), pw.BackrefAccessor)


def test_the_explicit_ids_are_the_auto_field_peewee_would_add():
    for model in (models.Account, models.Friendship, models.CatalogPackage, models.PushHistory):
        key = model._meta.primary_key
        assert type(key) is pw.AutoField and key.name == "id" and key.column_name == "id"
