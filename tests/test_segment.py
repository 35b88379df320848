from garble.segment import lines, paragraphs, segment


def _check_offsets(text, units):
    prev_end = 0
    for i, u in enumerate(units):
        assert u.index == i
        assert text[u.start : u.end] == u.text
        assert u.text == u.text.strip() and u.text
        assert u.start >= prev_end
        prev_end = u.end


def test_sentences_with_offsets_and_paragraphs():
    text = "First sentence here. Second one follows.\n\nA new paragraph starts. It ends."
    units = segment(text)
    assert [u.text for u in units] == [
        "First sentence here.",
        "Second one follows.",
        "A new paragraph starts.",
        "It ends.",
    ]
    assert [u.paragraph for u in units] == [0, 0, 1, 1]
    _check_offsets(text, units)


def test_fragment_stays_its_own_unit():
    text = "The minister spoke to reporters in the capital on Monday. For local radio.\n\nNext paragraph."
    units = segment(text)
    assert "For local radio." in [u.text for u in units]
    _check_offsets(text, units)


def test_glued_boundary_is_split():
    text = "The meeting took place in Oslo, June 3, 2021.Credit: Some Agency / Pictures"
    units = segment(text)
    assert [u.text for u in units] == [
        "The meeting took place in Oslo, June 3, 2021.",
        "Credit: Some Agency / Pictures",
    ]
    _check_offsets(text, units)


def test_abbreviations_do_not_split():
    text = "The U.S. Secretary of State met Dr. Smith at 3 p.m. in Geneva."
    assert len(segment(text)) == 1


def test_closing_quote_stays_with_its_sentence():
    text = "“We will not accept this.” The talks ended."
    units = segment(text)
    assert units[0].text == "“We will not accept this.”"
    _check_offsets(text, units)


def test_line_mode_one_unit_per_line():
    text = "one segment. With two sentences.\n\nsecond line\r\nthird line\n"
    units = segment(text, unit="line")
    assert [u.text for u in units] == ["one segment. With two sentences.", "second line", "third line"]
    _check_offsets(text, units)


def test_paragraph_mode_and_single_newline_layout():
    text = "line one.\nline two."  # no blank line: each line is a paragraph
    assert [text[a:b] for a, b in paragraphs(text)] == ["line one.", "line two."]
    assert [u.text for u in segment(text, unit="paragraph")] == ["line one.", "line two."]


def test_empty_and_blank_text():
    assert segment("") == []
    assert segment("  \n\n \t ") == []
    assert list(lines("\n\n")) == []
