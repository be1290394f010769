"""How a SQL file's section is cut into statements (ncm_sql.sqlsplit): pure logic, no database."""

from ncm_sql.sqlsplit import split


def lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def test_a_semicolon_in_a_string_does_not_end_a_statement():
    assert split(lines("INSERT INTO t VALUES ('a;b');\nSELECT 1;\n")) == ["INSERT INTO t VALUES ('a;b')", "SELECT 1"]


def test_a_dollar_quoted_body_is_one_statement():
    body = "CREATE FUNCTION f() RETURNS int AS $fn$\nBEGIN\n  RETURN 1;\nEND;\n$fn$ LANGUAGE plpgsql"
    assert split(lines(body + ";\nSELECT 2;\n")) == [body, "SELECT 2"]


def test_a_delimiter_block_ends_statements_at_lines_ending_with_the_delimiter():
    text = "DELIMITER //\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND //\nDELIMITER ;\nSELECT 2;\n"
    assert split(lines(text)) == ["CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND", "SELECT 2"]


def test_comment_only_statements_are_dropped_and_a_trailing_comment_is_cut():
    assert split(lines("SELECT 1; -- one\n-- nothing else\n/* at all */\n")) == ["SELECT 1"]
