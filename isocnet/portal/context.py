from django.conf import settings


def branding(request) -> dict:
    return {
        "brand": {
            "name": settings.COMPANY_NAME,
            "logo_url": settings.PORTAL_LOGO_URL,
            "color": settings.PORTAL_PRIMARY_COLOR,
            "email": settings.COMPANY_EMAIL,
            "phone": settings.COMPANY_PHONE,
            "website": settings.COMPANY_WEBSITE,
        }
    }
