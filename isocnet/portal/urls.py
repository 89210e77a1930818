from django.urls import path

from isocnet.portal.views import account, auth, billing, pay

app_name = "portal"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("password/forgot/", auth.password_forgot, name="password_forgot"),
    path(
        "password/<str:kind>/<uidb64>/<token>/",
        auth.SetPasswordView.as_view(),
        name="password_set",
    ),
    path("dashboard/", account.dashboard, name="dashboard"),
    path("contact/", account.contact, name="contact"),
    path("promise/", account.promise, name="promise"),
    path("contact/email/<str:token>/", account.email_confirm, name="email_confirm"),
    path("invoices/", billing.invoice_list, name="invoices"),
    path("invoices/<str:number>/", billing.invoice_detail, name="invoice"),
    path("invoices/<str:number>/pdf/", billing.invoice_download, name="invoice_pdf"),
    path("payments/", billing.payment_list, name="payments"),
    path("payments/<int:payment_id>/", billing.payment_detail, name="payment"),
    path(
        "payments/<int:payment_id>/receipt/pdf/",
        billing.credit_receipt_download,
        name="credit_receipt_pdf",
    ),
    path(
        "payments/<int:payment_id>/receipts/<str:number>/pdf/",
        billing.receipt_download,
        name="receipt_pdf",
    ),
    path("statement/", billing.statement, name="statement"),
    path("statement/pdf/", billing.statement_download, name="statement_pdf"),
    path("pay/", pay.pay, name="pay"),
    path("pay/card/", pay.pay_card_return, name="pay_card_return"),
    path("pay/<str:attempt>/", pay.pay_result, name="pay_result"),
    path("cards/", pay.cards, name="cards"),
    path("cards/add/", pay.card_add, name="card_add"),
    path("cards/added/", pay.card_return, name="card_return"),
    path("cards/<int:card_id>/remove/", pay.card_remove, name="card_remove"),
    path("cards/<int:card_id>/default/", pay.card_default, name="card_default"),
    path("auto-debit/", pay.auto_debit, name="auto_debit"),
]
