# Dayaq — русский язык. Ключи должны быть во всех каталогах: az, ru и en (это проверяет тест).

skip-to-content = Перейти к основному содержимому
nav-label = Главное меню
nav-home = Главная
nav-cases = Дела
nav-new-case = Новое дело
nav-users = Пользователи
nav-account = Моя учётная запись
nav-sign-out = Выйти
lang-switch = Язык
timeout-warning = Из-за отсутствия активности ваш сеанс скоро завершится. Сохраните работу или обновите страницу, чтобы остаться в системе.
footer-confidential = Конфиденциально. Всё, что вы здесь видите, касается людей, находящихся в опасности: не копируйте эти сведения за пределы Dayaq.

login-title = Вход в систему
login-username = Имя пользователя
login-password = Пароль
login-submit = Войти
login-failed = Не удалось войти. Проверьте имя пользователя и пароль. После многократных неудачных попыток учётная запись блокируется на срок до одного часа.
login-throttled = Слишком много попыток входа с этого адреса. Повторите попытку через { $seconds ->
    [one] { $seconds } секунду
    [few] { $seconds } секунды
    [many] { $seconds } секунд
   *[other] { $seconds } секунды
}.

totp-title = Второй фактор
totp-help = Введите шестизначный код из приложения-аутентификатора.
totp-code = Код
totp-submit = Подтвердить
totp-wrong = Код неверен или уже был использован. Дождитесь следующего кода и повторите попытку.

enrol-title = Подключение второго фактора
enrol-help = Для вашей роли требуется второй фактор. Отсканируйте QR-код приложением-аутентификатором (например, FreeOTP или Aegis), затем введите код, который оно покажет.
enrol-qr-alt = QR-код для приложения-аутентификатора
enrol-secret = Или введите этот ключ вручную:
enrol-submit = Активировать

role-caseworker = Социальный работник
role-supervisor = Руководитель (супервизор)
role-police-officer = Сотрудник полиции по идентификации жертв
role-hotline-operator = Оператор горячей линии
role-org-admin = Администратор организации
role-national-coordinator = Национальный координатор
role-researcher = Исследователь
role-auditor = Аудитор
role-system-admin = Системный администратор

error-back-home = Вернуться на главную страницу
error-not-found = Не найдено
error-not-found-text = Эта страница не существует, или у вас нет к ней доступа.
error-forbidden = Действие не разрешено
error-forbidden-text = Ваша роль не позволяет выполнить это действие.
error-conflict = Изменено другим пользователем
error-conflict-text = Кто-то изменил эту запись после того, как вы её открыли. Обновите её и внесите изменения заново.
error-csrf = Срок действия формы истёк
error-csrf-text = Форма устарела или была отправлена с другого сайта. Вернитесь назад, обновите страницу и повторите попытку.
error-too-many = Слишком много попыток
error-too-many-text = Подождите немного и повторите попытку.
error-unauthorized = Войдите в систему
error-unauthorized-text = Ваш сеанс завершён. Войдите снова.
error-internal = Что-то пошло не так
error-internal-text = Ошибка зарегистрирована. Повторите попытку; если ошибка повторится, сообщите администратору.

err-too-long = слишком длинное значение
err-control-characters = содержит недопустимые символы
err-invalid-date = недопустимая дата
err-in-future = дата не может быть в будущем
err-too-early = дата слишком далеко в прошлом
err-invalid-phone = номер должен содержать от 5 до 15 цифр
err-invalid-email = не является адресом электронной почты
err-invalid-country = требуется двухбуквенный код страны, например AZ
err-invalid-value = не входит в число допустимых значений
err-out-of-range = значение вне допустимого диапазона
err-required = обязательное поле
err-invalid-number = требуется целое число
err-mismatch = значения не совпадают
err-too-short = слишком короткое значение (не менее 12 символов)
err-wrong-password = указан неверно
err-invalid-username = может содержать только строчные латинские буквы, цифры, точки, дефисы и знаки подчёркивания (от 3 до 64 символов)
err-taken = уже занято

field-prs-firstname = Имя
field-prs-middlename = Отчество
field-prs-secondname = Фамилия
field-prs-birthdate = Дата рождения
field-prs-identitynumber = Номер документа, удостоверяющего личность
field-prs-mobilephone = Мобильный телефон
field-prs-homephone = Домашний телефон
field-prs-email = Электронная почта
field-prs-mailingstreet = Адрес (улица, дом)
field-prs-mailingcity = Город
field-prs-mailingcountry = Страна адреса
field-cco-casecomment = Заметки по делу
field-prs-gender = Пол
field-prs-citizenship = Гражданство
field-vic-agewhentrafficked = Возраст на момент вовлечения в торговлю людьми
field-vic-typeofexploitation = Вид эксплуатации
field-cas-status = Статус дела
field-cas-reasonforcaseclosure = Причина закрытия дела
field-password = Пароль
field-current-password = Текущий пароль
field-new-password = Новый пароль
field-confirm-password = Повторите новый пароль
field-username = Имя пользователя
field-role = Роль

home-title = Обзор
home-org = Организация
home-caseload = Мои дела
home-open-cases = { $count ->
    [one] { $count } дело в вашей организации
    [few] { $count } дела в вашей организации
    [many] { $count } дел в вашей организации
   *[other] { $count } дела в вашей организации
}
home-due = Срок — сегодня
home-nothing-due = На сегодня сроков нет.
home-approvals = Ожидает вашего утверждения
home-no-approvals = Ничего не ожидает утверждения.
home-stats-title = Национальная статистика
home-stats-total = Зарегистрировано дел
home-stats-by-status = По статусу дела
home-stats-by-gender = По полу
home-stats-by-tstatus = По статусу идентификации
home-stats-suppressed-note = Значения от 1 до 4 отображаются как «<5», чтобы ни одного человека нельзя было узнать.
home-audit-title = Журнал аудита
home-audit-ok = { $rows ->
    [one] Цепочка не нарушена ({ $rows } запись).
    [few] Цепочка не нарушена ({ $rows } записи).
    [many] Цепочка не нарушена ({ $rows } записей).
   *[other] Цепочка не нарушена ({ $rows } записи).
}
home-audit-problems = Цепочка журнала аудита нарушена:
home-researcher-text = Здесь будут публиковаться обезличенные наборы данных. Отдельные дела вам никогда не показываются.
home-admin-text = Вы управляете пользователями своей организации. Содержание дел администраторам недоступно.

cases-title = Дела
cases-search-title = Поиск дела
cases-search-number = Номер дела
cases-search-name-help = Или ищите по точному имени, фамилии и дате рождения одновременно (нужны все три).
search-submit = Найти
search-needs = Введите номер дела либо имя, фамилию и дату рождения вместе.
cases-none = Дел нет.
cases-results = Результаты поиска
cases-elsewhere = Возможное совпадение найдено в организации:
cases-elsewhere-help = У вас нет доступа к этой записи. Если человек согласен, запросите у этой организации направление.
col-case-number = Номер дела
col-status = Статус
col-tstatus = Идентификация
col-gender = Пол
col-updated = Обновлено

new-title = Новое дело
new-identity-legend = Личные данные
new-encrypted-note = Эти поля шифруются и показываются только тем, у кого есть право их видеть.
new-context-legend = О деле
new-select-none = — не указано —
new-submit = Создать дело

case-title = Дело
case-summary = Сводка
case-owner = Ответственная организация
case-age-band = Возрастная группа
case-version = Версия
case-identity = Личные данные
case-identity-hidden = Личные данные скрыты. Открывайте их только при необходимости: каждый просмотр регистрируется.
case-reveal = Показать личные данные
case-reveal-note = Этот просмотр зарегистрирован в журнале аудита.
case-no-identity = Личные данные не внесены.
case-print-identity = Включить личные данные при печати
case-timeline = Хронология

event-case-created = Дело создано
event-case-updated = Дело обновлено
event-case-erased = Дело удалено

account-title = Моя учётная запись
account-sessions = Где выполнен вход
account-current = Текущий сеанс
col-started = Начало
col-last-seen = Последняя активность
col-device = Браузер
session-revoke = Завершить этот сеанс
account-password = Смена пароля
password-submit = Сменить пароль
password-changed = Ваш пароль изменён. Остальные сеансы завершены.

users-title = Пользователи вашей организации
users-create = Добавить пользователя
users-created = Пользователь { $username } создан.
users-password-once = Передайте этот пароль пользователю лично; он показывается только один раз:
col-username = Имя пользователя
col-role = Роль
col-totp = Второй фактор
yes = Да
no = Нет

v-prs-gender-feminine = Женский
v-prs-gender-masculine = Мужской
v-prs-gender-transgenderfeminine = Трансгендерная женщина
v-prs-gender-transgendermasculine = Трансгендерный мужчина
v-prs-gender-nonconforming = Гендерно неконформный
v-prs-gender-nonspecifiedunknown = Не указан
v-cas-status-active = Активное
v-cas-status-followup = Последующее сопровождение
v-cas-status-closed = Закрыто
v-cas-status-closedreferred = Закрыто (передано в другую организацию)
v-vic-traffickingstatus-possiblevictimoftrafficking = Предполагаемая жертва
v-vic-traffickingstatus-actualvictimoftrafficking = Официально признанная жертва
v-vic-traffickingstatus-notavictimoftrafficking = Не является жертвой
v-vic-typeofexploitation-forcedlabour = Принудительный труд
v-vic-typeofexploitation-sexualexploitation = Сексуальная эксплуатация
v-vic-typeofexploitation-childlabour = Детский труд
v-vic-typeofexploitation-forcedmarriage = Принудительный брак
v-vic-typeofexploitation-servitude = Подневольное состояние
v-vic-typeofexploitation-forcedmilitarybynonstateactors = Принудительная служба в негосударственных вооружённых формированиях
v-vic-typeofexploitation-organremoval = Изъятие органов
v-vic-typeofexploitation-forcedbegging = Принудительное попрошайничество
v-vic-typeofexploitation-forcedadoption = Принудительное усыновление
v-vic-typeofexploitation-surrogacy = Суррогатное материнство
v-vic-typeofexploitation-other = Другое
