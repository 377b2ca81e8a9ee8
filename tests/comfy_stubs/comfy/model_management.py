"""Stand-in for the interrupt part of ``comfy.model_management`` (ComfyUI 0.3.x): the real
module also loads torch and manages devices, which no custom node pack here touches.

"Cancel" in ComfyUI calls ``interrupt_current_processing()``; a node polls
``processing_interrupted()`` or calls ``throw_exception_if_processing_interrupted()``, which
clears the flag and raises ``InterruptProcessingException``. Same names, same semantics.
"""

import threading


class InterruptProcessingException(Exception):
    pass


interrupt_processing_mutex = threading.RLock()

interrupt_processing = False


def interrupt_current_processing(value=True):
    global interrupt_processing
    with interrupt_processing_mutex:
        interrupt_processing = value


def processing_interrupted():
    with interrupt_processing_mutex:
        return interrupt_processing


def throw_exception_if_processing_interrupted():
    global interrupt_processing
    with interrupt_processing_mutex:
        if interrupt_processing:
            interrupt_processing = False
            raise InterruptProcessingException()
