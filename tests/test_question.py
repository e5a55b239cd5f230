from assistant.question import asks_several, counted_words, named_things, profile, question_kind


def test_question_kinds_come_from_the_wh_phrase():
    assert question_kind("Who launched the alliance?") == "person"
    assert question_kind("When was it launched?") == "date"
    assert question_kind("In what year was Warsaw founded?") == "date"
    assert question_kind("Where was the workshop held?") == "place"
    assert question_kind("How many people attended?") == "count"
    assert question_kind("What share of the land is degraded?") == "share"
    assert question_kind("By how much have glaciers shrunk?") == "amount"
    assert question_kind("What are the six key transitions?") == "list"
    assert question_kind("Сколько человек вернули?") == "count"
    assert question_kind("Why does it matter?") == "description"
    assert question_kind("And when did it open?") == "date"
    assert question_kind("Когда открыли центр?") == "date"
    assert question_kind("What happens when the ice melts?") == "description"  # "when" is a condition here
    assert question_kind("Who led the city when it fell?") == "person"
    assert question_kind("Кто руководил городом, когда он пал?") == "person"  # the first question word leads
    assert question_kind("Кто никогда не был в Алматы?") == "person"  # "никогда" (never) holds no "когда"
    assert question_kind("Кто открыл несколько центров?") == "person"  # "несколько" (several) is no "сколько"
    assert question_kind("Скольких людей проинформировала программа?") == "count"  # "сколько" declines
    assert question_kind("Скольким странам помогли?") == "count"
    # "какой" and its noun decline together: "к какому году", "с какого года", "в какой день", not "какой годовой"
    assert question_kind("К какому году страна достигнет углеродной нейтральности?") == "date"
    assert question_kind("С какого года действует программа?") == "date"
    assert question_kind("В какой день открыли центр?") == "date"
    assert (
        question_kind("К какому дню приурочили форум?") == "date"
        and question_kind("На какую дату назначен саммит?") == "date"
    )
    assert (
        question_kind("В какие дни прошёл форум?") == "date" and question_kind("К какому числу участников?") != "date"
    )
    assert question_kind("Какая дата у форума?") == "date" and question_kind("В какие годы он работал?") == "date"
    assert question_kind("Какой годовой бюджет у проекта?") == "amount"  # "годовой" (annual) is no "год"
    assert question_kind("Қай жылға дейін?") == "date" and question_kind("Қай айында өтті?") == "date"
    assert question_kind("Қай аймақта өтті?") != "date" and question_kind("Қай жылдық бағдарлама?") != "date"
    assert question_kind("Кто помог нескольким странам?") == "person"
    parts = profile("Who is the Head of UNEP in Central Asia, and what crisis did she say it contributes to?").parts
    assert [p.kind for p in parts] == ["person", "description"]  # a later part with its own wh-word asks its own
    assert [p.kind for p in profile("Who spoke at the forum and at the side event?").parts] == ["person", "person"]
    assert [p.kind for p in profile("What is the FRIENDS project, and who funds it?").parts] == [
        "description",
        "person",
    ]
    asked = ("How much did the tour cost, and who paid?", "How much land?")
    money = [[p.money for p in profile(q).parts] for q in asked]
    assert money == [[True, False], [False]]  # an amount in money: a figure with a currency answers
    assert not profile("How much has Türkiye contributed?").parts[0].money  # "contribute" may be a share
    for asked in (
        "How much time did they spend there?",
        "How much of the fund's area is forest?",
        "How much is invested in research as a share of GDP?",
        "How much did prices rise?",
    ):
        assert not profile(asked).parts[0].money, asked
    for asked in ("How much did the agency grant?", "How large was the grant?", "How much funding did it get?"):
        assert profile(asked).parts[0].money, asked
    for asked in ("What was the total budget of the programme?", "What is the salary of the coordinator?"):
        assert profile(asked).kind == "amount" and profile(asked).parts[0].money, asked  # "what is the <sum>"
    for asked in ("What's the budget of the project?", "What is the programme's budget?", "What was its total cost?"):
        assert profile(asked).parts[0].money, asked
    for asked in ("What is the capital of France?", "What was the funding for?", "What is the budget office?",
                  "What was the human cost of the floods?"):  # fmt: skip
        assert not profile(asked).parts[0].money, asked  # a capital city; a purpose; an office; lives
    for asked in ("Каков бюджет программы?", "Какой общий бюджет у проекта?", "Какая стоимость проекта?",
                  "Сколько стоил проект?", "Сколько он стоил?", "Во сколько обошёлся проект?",
                  "Сколько потратили на проект?", "Какую сумму внесла Турция?", "Жобаның бюджеті қанша?",
                  "Жобаның құны қанша?", "Қанша қаржы бөлінді?", "Каков объём финансирования проекта?",
                  "Сколько инвестировала Турция?", "Сколько было потрачено на проект?", "Каковы объёмы финансирования?",
                  "Сколько инвестиций привлекла страна?"):  # fmt: skip
        assert profile(asked).kind == "amount" and profile(asked).parts[0].money, asked
    assert question_kind("Кто утвердил бюджет проекта?") == "person"  # a budget named, not asked
    for asked in ("Сколько человек пришло?", "Сколько средств массовой информации пришло?", "Сколько человек стоит?",
                  "Каков объём выбросов?", "Сколько было вложено усилий?", "Сколько пожертвовали книг?"):  # fmt: skip
        assert not profile(asked).parts[0].money, asked  # mass media, people standing: no money
    assert question_kind("В каком городе прошёл форум, когда открыли хаб?") != "date"  # "когда" is a condition
    # a question opened by a "when" clause asks its later wh-word; a verb straight after "when" asks the date
    assert question_kind("When B cells begin to replicate, what do their offspring become?") == "description"
    assert question_kind("When a pathogen is eaten it is trapped in what vesicle?") == "description"
    assert question_kind("When was the man who founded it born?") == "date"
    assert question_kind("When exactly was the man who founded it born?") == "date"
    assert question_kind("When Italy was unified, what was its capital?") == "description"  # "Italy" is no adverb
    assert question_kind("When's the festival where bands play?") == "date"
    assert [p.kind for p in profile("When and where was the forum held?").parts] == ["date", "place"]
    assert question_kind("When didn't Kublai ban the trade?") == "date"
    assert question_kind("How long was Warsaw the capital?") == "duration"
    assert question_kind("How long is the Vistula?") == "duration"
    # the same kinds asked in Russian and Kazakh
    assert question_kind("В каком году открыли центр?") == "date"
    assert question_kind("Қай жылы ашылды?") == "date"
    assert question_kind("В каком городе может появиться офис?") == "place"
    assert question_kind("Қай елде өтті?") == "place"
    assert question_kind("Какую сумму Турция внесла?") == "amount"
    assert question_kind("Какая организация запустила альянс?") == "person"
    assert question_kind("БҰҰДБ қай агенттікті қолдайды?") == "person"


def test_multi_part_questions_split_into_parts():
    p = profile("Who launched the Central Asian Alliance and when?")
    assert [part.kind for part in p.parts] == ["person", "date"]
    assert "allianc" in p.parts[1].terms  # "... and when?" borrows what it is about


def test_named_things_are_the_capitalised_words_after_the_first():
    assert named_things("Who founded the Warsaw Uprising Museum?") == ("Warsaw", "Uprising", "Museum")
    assert profile("Who is the head of UNICEF?").names == ("UNICEF",)


def test_focus_and_definition():
    p = profile("Who organised the event?")
    assert "organis" in p.parts[0].focus
    assert profile("What is the FRIENDS project?").defines.startswith("friends")


def test_the_counted_words_follow_how_many():
    assert counted_words("How many delegates were there?") == {"deleg"}
    assert counted_words("How many of the students are there?") == {"student"}
    assert counted_words("How many million people are there?") == {"peopl"}  # a figure in words is not counted
    assert counted_words("How many millions of people are there?") == frozenset()  # "of" ends it: no noun named
    assert counted_words("Сколько центров открыли?") >= {"центр"}
    assert counted_words("How many did they count?") == frozenset()  # no noun after it
    assert counted_words("How much did it cost?") == frozenset()  # an amount, not a count
    assert [p.counted for p in profile("How many hectares will it restore, and when?").parts] == [{"hectar"}, set()]


def test_a_question_asks_several_things_with_a_plural_noun_after_which_or_what():
    assert asks_several("Which cross-border problems did the director name?", "description")
    assert asks_several("What threats does Central Asia face?", "description")
    assert asks_several("Through which UN agencies is the programme carried out?", "person")
    assert asks_several("Name the museums.", "list")  # a list question always does
    assert not asks_several("Which project was launched?", "description")
    assert not asks_several("What process is used?", "description")  # "ss", not a plural
    assert not asks_several("What does Warsaw's name mean?", "description")
    assert profile("Which key transitions are seen as catalytic?").parts[0].several
