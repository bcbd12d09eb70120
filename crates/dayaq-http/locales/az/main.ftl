# Dayaq — Azərbaycan dili (latın qrafikası). Açarlar az, ru və en kataloqlarının hər birində olmalıdır (test yoxlayır).

skip-to-content = Əsas məzmuna keçid
nav-label = Əsas menyu
nav-home = Əsas səhifə
nav-cases = İşlər
nav-new-case = Yeni iş
nav-users = İstifadəçilər
nav-account = Hesabım
nav-sign-out = Çıxış
lang-switch = Dil
timeout-warning = Fəaliyyət olmadığı üçün sessiyanız tezliklə başa çatacaq. Sistemdə qalmaq üçün işinizi yadda saxlayın və ya səhifəni yeniləyin.
footer-confidential = Məxfidir. Burada gördüyünüz hər şey risk altında olan insanlara aiddir: bu məlumatları Dayaq sistemindən kənara köçürməyin.

login-title = Sistemə giriş
login-username = İstifadəçi adı
login-password = Şifrə
login-submit = Daxil ol
login-failed = Daxil olmaq mümkün olmadı. İstifadəçi adını və şifrəni yoxlayın. Bir neçə uğursuz cəhddən sonra hesab bir saata qədər bloklanır.
login-throttled = Bu ünvandan həddindən artıq cəhd edilib. { $seconds ->
    [one] { $seconds } saniyədən
   *[other] { $seconds } saniyədən
} sonra yenidən cəhd edin.

totp-title = İkinci doğrulama faktoru
totp-help = Autentifikator tətbiqindəki 6 rəqəmli kodu daxil edin.
totp-code = Kod
totp-submit = Təsdiqlə
totp-wrong = Kod düzgün deyil və ya artıq istifadə olunub. Növbəti kodu gözləyin və yenidən cəhd edin.

enrol-title = İkinci doğrulama faktorunun qoşulması
enrol-help = Rolunuz ikinci doğrulama faktoru tələb edir. QR kodu autentifikator tətbiqi (məsələn, FreeOTP və ya Aegis) ilə skan edin, sonra tətbiqin göstərdiyi kodu daxil edin.
enrol-qr-alt = Autentifikator tətbiqi üçün QR kod
enrol-secret = Və ya bu açarı əl ilə daxil edin:
enrol-submit = Aktivləşdir

role-caseworker = Sosial işçi
role-supervisor = Rəhbər (supervayzer)
role-police-officer = Qurbanların müəyyənləşdirilməsi üzrə polis əməkdaşı
role-hotline-operator = Qaynar xətt operatoru
role-org-admin = Təşkilat administratoru
role-national-coordinator = Milli koordinator
role-researcher = Tədqiqatçı
role-auditor = Auditor
role-system-admin = Sistem administratoru

error-back-home = Əsas səhifəyə qayıt
error-not-found = Tapılmadı
error-not-found-text = Bu səhifə mövcud deyil və ya ona girişiniz yoxdur.
error-forbidden = İcazə yoxdur
error-forbidden-text = Rolunuz bu əməliyyatı yerinə yetirməyə icazə vermir.
error-conflict = Başqa istifadəçi tərəfindən dəyişdirilib
error-conflict-text = Siz bu qeydi açdıqdan sonra başqa biri onu dəyişdirib. Qeydi yenidən yükləyin və dəyişikliyinizi təkrar edin.
error-csrf = Formanın vaxtı bitib
error-csrf-text = Forma çox köhnədir və ya başqa mənbədən göndərilib. Geri qayıdın, səhifəni yeniləyin və yenidən cəhd edin.
error-too-many = Həddindən artıq cəhd
error-too-many-text = Bir az gözləyin və yenidən cəhd edin.
error-unauthorized = Zəhmət olmasa, sistemə daxil olun
error-unauthorized-text = Sessiyanız başa çatıb. Yenidən daxil olun.
error-internal = Xəta baş verdi
error-internal-text = Xəta qeydə alındı. Yenidən cəhd edin; təkrarlanarsa, administratorunuza bildirin.

err-too-long = çox uzundur
err-control-characters = icazə verilməyən simvollar var
err-invalid-date = düzgün tarix deyil
err-in-future = gələcək tarix ola bilməz
err-too-early = həddindən artıq keçmiş tarixdir
err-invalid-phone = 5-dən 15-ə qədər rəqəmdən ibarət olmalıdır
err-invalid-email = e-poçt ünvanı deyil
err-invalid-country = AZ kimi iki hərfli ölkə kodu olmalıdır
err-invalid-value = icazə verilən dəyərlərdən biri deyil
err-out-of-range = icazə verilən hədlərdən kənardır
err-required = mütləq doldurulmalıdır
err-invalid-number = tam ədəd olmalıdır
err-mismatch = uyğun gəlmir
err-too-short = çox qısadır (ən azı 12 simvol)
err-wrong-password = düzgün deyil
err-invalid-username = yalnız kiçik latın hərfləri, rəqəmlər, nöqtə, defis və alt xətt ola bilər (3–64 simvol)
err-taken = artıq istifadə olunur

field-prs-firstname = Ad
field-prs-middlename = Ata adı
field-prs-secondname = Soyad
field-prs-birthdate = Doğum tarixi
field-prs-identitynumber = Şəxsiyyəti təsdiq edən sənədin nömrəsi
field-prs-mobilephone = Mobil telefon
field-prs-homephone = Ev telefonu
field-prs-email = E-poçt
field-prs-mailingstreet = Ünvan (küçə, ev)
field-prs-mailingcity = Şəhər
field-prs-mailingcountry = Ünvan üzrə ölkə
field-cco-casecomment = İş üzrə qeydlər
field-prs-gender = Cins
field-prs-citizenship = Vətəndaşlıq
field-vic-agewhentrafficked = İnsan alverinə məruz qaldığı zaman yaşı
field-vic-typeofexploitation = İstismar növü
field-cas-status = İşin statusu
field-cas-reasonforcaseclosure = İşin bağlanma səbəbi
field-password = Şifrə
field-current-password = Hazırkı şifrə
field-new-password = Yeni şifrə
field-confirm-password = Yeni şifrəni təkrar daxil edin
field-username = İstifadəçi adı
field-role = Rol

home-title = Ümumi baxış
home-org = Təşkilat
home-caseload = Mənim işlərim
home-open-cases = { $count ->
    [one] Təşkilatınızda { $count } iş var
   *[other] Təşkilatınızda { $count } iş var
}
home-due = Bu gün vaxtı çatanlar
home-nothing-due = Bu gün üçün vaxtı çatan heç nə yoxdur.
home-approvals = Təsdiqinizi gözləyənlər
home-no-approvals = Təsdiq gözləyən heç nə yoxdur.
home-stats-title = Milli statistika
home-stats-total = Qeydə alınmış işlər
home-stats-by-status = İşin statusu üzrə
home-stats-by-gender = Cins üzrə
home-stats-by-tstatus = Müəyyənləşdirmə statusu üzrə
home-stats-suppressed-note = Heç bir şəxsin tanınmaması üçün 1-dən 4-ə qədər olan saylar “<5” kimi göstərilir.
home-audit-title = Audit jurnalı
home-audit-ok = { $rows ->
    [one] Zəncir bütövdür ({ $rows } qeyd).
   *[other] Zəncir bütövdür ({ $rows } qeyd).
}
home-audit-problems = Audit zənciri pozulub:
home-researcher-text = Anonimləşdirilmiş məlumat toplusu burada dərc olunacaq. Ayrı-ayrı işlər sizə heç vaxt göstərilmir.
home-admin-text = Siz təşkilatınızın istifadəçilərini idarə edirsiniz. İşlərin məzmunu administratorlara görünmür.

cases-title = İşlər
cases-search-title = İşin axtarışı
cases-search-number = İşin nömrəsi
cases-search-name-help = Və ya dəqiq ad, soyad və doğum tarixini birlikdə daxil edərək axtarın (hər üçü tələb olunur).
search-submit = Axtar
search-needs = İşin nömrəsini və ya ad, soyad və doğum tarixini birlikdə daxil edin.
cases-none = İş yoxdur.
cases-results = Axtarış nəticələri
cases-elsewhere = Ehtimal olunan uyğunluq bu təşkilatdadır:
cases-elsewhere-help = Siz həmin qeydi görə bilməzsiniz. Şəxs razılıq verərsə, həmin təşkilatdan yönləndirmə istəyin.
col-case-number = İşin nömrəsi
col-status = Status
col-tstatus = Müəyyənləşdirmə
col-gender = Cins
col-updated = Yenilənib

new-title = Yeni iş
new-identity-legend = Şəxsiyyət məlumatları
new-encrypted-note = Bu sahələr şifrələnir və yalnız onları görməyə icazəsi olan şəxslərə göstərilir.
new-context-legend = İş haqqında
new-select-none = — qeyd edilməyib —
new-submit = İşi yarat

case-title = İş
case-summary = Xülasə
case-owner = Məsul təşkilat
case-age-band = Yaş qrupu
case-version = Versiya
case-identity = Şəxsiyyət məlumatları
case-identity-hidden = Şəxsiyyət məlumatları gizlədilib. Onları yalnız zərurət olduqda açın; hər baxış qeydə alınır.
case-reveal = Şəxsiyyət məlumatlarını göstər
case-reveal-note = Bu baxış audit jurnalında qeydə alındı.
case-no-identity = Şəxsiyyət məlumatları qeydə alınmayıb.
case-print-identity = Çap zamanı şəxsiyyət məlumatlarını daxil et
case-timeline = Xronologiya

event-case-created = İş yaradıldı
event-case-updated = İş yeniləndi
event-case-erased = İş silindi

account-title = Hesabım
account-sessions = Daxil olduğunuz cihazlar
account-current = Cari sessiya
col-started = Başlama vaxtı
col-last-seen = Son fəaliyyət
col-device = Brauzer
session-revoke = Bu sessiyanı bağla
account-password = Şifrəni dəyiş
password-submit = Şifrəni dəyiş
password-changed = Şifrəniz dəyişdirildi. Digər sessiyalarınız bağlandı.

users-title = Təşkilatınızın istifadəçiləri
users-create = İstifadəçi əlavə et
users-created = { $username } istifadəçisi yaradıldı.
users-password-once = Bu şifrəni istifadəçiyə şəxsən təqdim edin; o yalnız bir dəfə göstərilir:
col-username = İstifadəçi adı
col-role = Rol
col-totp = İkinci faktor
yes = Bəli
no = Xeyr

v-prs-gender-feminine = Qadın
v-prs-gender-masculine = Kişi
v-prs-gender-transgenderfeminine = Transgender qadın
v-prs-gender-transgendermasculine = Transgender kişi
v-prs-gender-nonconforming = Gender normalarına uyğun gəlməyən
v-prs-gender-nonspecifiedunknown = Göstərilməyib
v-cas-status-active = Aktiv
v-cas-status-followup = Sonrakı müşayiət
v-cas-status-closed = Bağlanıb
v-cas-status-closedreferred = Bağlanıb (yönləndirilib)
v-vic-traffickingstatus-possiblevictimoftrafficking = Ehtimal olunan qurban
v-vic-traffickingstatus-actualvictimoftrafficking = Rəsmən tanınmış qurban
v-vic-traffickingstatus-notavictimoftrafficking = Qurban deyil
v-vic-typeofexploitation-forcedlabour = Məcburi əmək
v-vic-typeofexploitation-sexualexploitation = Cinsi istismar
v-vic-typeofexploitation-childlabour = Uşaq əməyi
v-vic-typeofexploitation-forcedmarriage = Məcburi nikah
v-vic-typeofexploitation-servitude = Köləliyə bənzər asılılıq vəziyyəti
v-vic-typeofexploitation-forcedmilitarybynonstateactors = Qeyri-dövlət silahlı qrupları tərəfindən məcburi hərbi xidmətə cəlb etmə
v-vic-typeofexploitation-organremoval = Orqanların çıxarılması
v-vic-typeofexploitation-forcedbegging = Məcburi dilənçilik
v-vic-typeofexploitation-forcedadoption = Məcburi övladlığa götürmə
v-vic-typeofexploitation-surrogacy = Surroqat analıq
v-vic-typeofexploitation-other = Digər
