"""aebridge init: the naming conventions, table by table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aebridge import naming
from aebridge.model.comp import comp_slug
from aebridge.model.layer import ID


@pytest.mark.parametrize(
    ("stem", "base", "word"),
    [
        ("fg_matte", "fg", "matte"),
        ("Hero-Alpha", "hero", "alpha"),
        ("shot.mask", "shot", "mask"),
        ("fg_pha", "fg", "pha"),
        ("pha", "", "pha"),
        ("alpha", "", "alpha"),
        ("fg_rgb", None, None),
        ("matte_painting", None, None),
        ("fgr", None, None),
    ],
)
def test_a_matte_is_named_by_its_last_word(
    stem: str, base: str | None, word: str | None
) -> None:
    name = naming.matte_name(stem)
    if base is None:
        assert name is None
    else:
        assert name == naming.MatteName(base=base, word=str(word))


@pytest.mark.parametrize(
    ("matte", "keys"),
    [
        ("fg_matte", ("fg", "fg_rgb", "fg_fgr", "fg_color", "fg_colour")),
        ("hero_pha", ("hero", "hero_rgb", "hero_fgr", "hero_color", "hero_colour")),
        # RVM's README (fgr/pha) and its inference.py example (foreground/alpha).
        ("pha", ("fgr",)),
        ("alpha", ("foreground",)),
        # Words of any script: '前景_matte' was the bare 'matte' and paired with no
        # clip ('前景_pha' with any 'fgr').
        ("前景_matte", ("前景", "前景_rgb", "前景_fgr", "前景_color", "前景_colour")),
        ("Фон-Pha", ("фон", "фон_rgb", "фон_fgr", "фон_color", "фон_colour")),
        # A bare matte word other than RVM's has no partner by name.
        ("matte", ()),
        ("mask", ()),
    ],
)
def test_a_matte_names_its_colour_clip(matte: str, keys: tuple[str, ...]) -> None:
    name = naming.matte_name(matte)
    assert name is not None
    assert naming.partner_keys(name) == keys


@pytest.mark.parametrize(
    ("stem", "plate", "foreground", "composition"),
    [
        ("bg_plate_v1", True, False, False),
        ("Background", True, False, False),
        ("sh040_bg", True, False, False),
        ("bgfx", False, False, False),
        ("fgr", False, True, False),
        ("hero_fg", False, True, False),
        ("com", False, False, True),
        ("composition", False, False, True),
        ("hero_com", False, False, True),
        ("compositing", False, False, False),
    ],
)
def test_plate_foreground_and_composition_names(
    stem: str, plate: bool, foreground: bool, composition: bool
) -> None:
    assert naming.is_plate_name(stem) is plate
    assert naming.is_foreground_name(stem) is foreground
    assert naming.is_composition(stem) is composition


@pytest.mark.parametrize(
    ("stem", "position"),
    [
        ("first_frame", "first"),
        ("start", "first"),
        ("kf_frame0", "first"),
        ("image_tail", "last"),
        ("last-frame", "last"),
        ("frame1", "last"),
        ("reference", None),
        ("firstlook", None),
    ],
)
def test_a_still_placed_by_its_name(stem: str, position: str | None) -> None:
    assert naming.keyframe_position(stem) == position


def test_layer_ids_are_unique_and_meaningless_names_take_the_role() -> None:
    taken: set[str] = set()
    ids = [
        naming.layer_id("2d4f3c1e-5b6a-4c7d-8e9f-0a1b2c3d4e5f", "plate", taken),
        naming.layer_id("output", "element", taken),
        naming.layer_id("fg (take 2)", "element", taken),
        naming.layer_id("FG (take 2)", "element", taken),
        naming.layer_id("1234567", "element", taken),
    ]
    # Unique without regard to case: ids name folders, which may ignore it.
    assert ids == ["plate", "element", "fg_take_2", "fg_take_2_2", "element_2"]


def test_clip_base_drops_the_colour_word() -> None:
    assert naming.clip_base("fg_rgb") == "fg"
    assert naming.clip_base("Hero-FGR") == "hero"
    assert naming.clip_base("fgr") == "fgr"
    assert naming.clip_base("bg_plate") == "bg_plate"


@pytest.mark.parametrize(
    ("colour", "matte", "rvm"),
    [
        ("fgr", "pha", True),
        ("shot_fgr", "shot_pha", True),
        ("shot_fgr", "shot_matte", True),
        ("shot", "shot_pha", True),
        ("foreground", "alpha", True),
        ("fg_rgb", "fg_matte", False),
        ("fg", "fg_alpha", False),
        ("hero_foreground", "hero_alpha", False),
    ],
)
def test_a_pair_is_rvm_s_by_its_names(colour: str, matte: str, rvm: bool) -> None:
    name = naming.matte_name(matte)
    assert name is not None
    assert naming.is_rvm_pair(colour, name) is rvm


@pytest.mark.parametrize(
    ("name", "layer", "folder"),
    [
        # Accents were dropped with their letters in layer ids ('fg_n_s_3').
        ("fg ünï's #3", "fg_uni_s_3", "fg_uni_s_3"),
        ("Tom's plate #2 50%", "tom_s_plate_2_50", "Tom_s_plate_2_50"),
        # Letters Unicode does not decompose, ligatures and full-width forms.
        ("Øresund straße", "oresund_strasse", "Oresund_strasse"),
        ("\ufb01nal \uff36\uff12", "final_v2", "final_V2"),  # fi, full-width V2
        # A character with no ASCII form separates ('Tokyonight' for the folder).
        ("Tokyo東京night", "tokyo_night", "Tokyo_night"),
        # Nothing left: the name's hash, said to be a layer's or a comp's (the layer
        # took its role, 'fg', so two such clips were 'fg' and 'fg_2' by order).
        ("前景", "layer_62cf3dd7", "comp_62cf3dd7"),
        ("背景", "layer_f4b669c5", "comp_f4b669c5"),
        # A Windows device name cannot name a folder.
        ("nul", "nul_", "nul_"),
        # With an extension too: 'con.v2_' was still CON to Windows.
        ("Con.v2", "con_v2", "Con_.v2"),
        ("aux.1.final", "aux_1_final", "aux_.1.final"),
        # Never ending in '.', which Windows drops from a folder's name.
        ("take 2...", "take_2", "take_2"),
        ("con.", "con_", "con_"),
    ],
)
def test_a_layer_id_and_a_comp_folder_fold_a_name_alike(
    name: str, layer: str, folder: str
) -> None:
    layer_id = naming.layer_id(name, "fg", set())
    assert (layer_id, comp_slug(name)) == (layer, folder)
    for made in (layer_id, comp_slug(name)):
        assert ID.check(made) is None


@pytest.mark.parametrize(
    ("stem", "name"),
    [
        # The id cannot show these names, After Effects can (it showed the id).
        ("前景", "前景"),
        ("前景_rgb", "前景"),
        ("Tokyo東京night", "Tokyo東京night"),
        ("Фон-FGR", "Фон"),
        # The id shows these (accents folded), so the layer takes the id.
        ("fg ünï's #3", None),
        ("fg_rgb", None),
        ("Øresund straße", None),
    ],
)
def test_a_name_an_id_cannot_show_is_the_layer_s_name(
    stem: str, name: str | None
) -> None:
    assert naming.layer_name(stem) == name


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80))
def test_every_name_gives_an_id(name: str) -> None:
    # What init and a comp's folder make of any name is an id: never a device name,
    # never ending in '.' (Windows drops it: 'fg.' would be the folder 'fg').
    for made in (naming.layer_id(name, "fg", set()), comp_slug(name)):
        assert ID.check(made) is None, made


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("दिन", "दान"),  # Devanagari vowel signs (Mc) split a word: both 'द', 'न'
        ("กิน", "กัน"),  # Thai vowel marks (Mn)
        ("ガラス", "カラス"),  # a voiced mark NFKD splits off and folding dropped
        ("कल्", "कल"),  # a virama
    ],
)
def test_names_in_other_scripts_keep_the_marks_that_tell_them_apart(
    one: str, other: str
) -> None:
    # Folding dropped or split at the marks written on letters of other scripts, so
    # two names were one: a matte 'दिन_matte' paired with the clip 'दान'.
    assert naming.norm(one) != naming.norm(other)
    matte = naming.matte_name(f"{one}_matte")
    assert matte is not None
    assert naming.norm(other) not in naming.partner_keys(matte)
    assert naming.norm(one) in naming.partner_keys(matte)
    assert naming.layer_name(f"{one}_rgb") == one


@pytest.mark.parametrize(
    ("stem", "same_as"),
    [
        ("Ünï", "uni"),
        ("U\u0308ni\u0308", "uni"),  # decomposed, as macOS stores file names
        ("ﬁnal", "final"),
        ("が_rgb", "か\u3099-RGB"),  # one name, composed or not
    ],
)
def test_what_folds_to_ascii_is_folded_and_spellings_of_one_name_are_one(
    stem: str, same_as: str
) -> None:
    assert naming.norm(stem) == naming.norm(same_as)
