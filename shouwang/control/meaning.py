"""What each level means for the people who live there, in the words of the door notice, the
household page and the index."""

from django.utils.translation import gettext_lazy as _

from shouwang.control.models import Level

MEANING = {
    Level.SEALED: _(
        "Stay at home: nobody leaves their home. Testing, food, medicine and rubbish are "
        "handled at your door."
    ),
    Level.CLOSE_CONTACT: _(
        "Close-contact building: stay at home. Testing and every service come to your door."
    ),
    Level.CONTROLLED: _(
        "Do not leave the compound. Collect deliveries at the gate; avoid gatherings."
    ),
    Level.PRECAUTION: _(
        "Precaution: keep your distance, wear a mask, avoid gatherings, take part in every test "
        "round."
    ),
}
