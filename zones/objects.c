/*
 * objects.c -- freeing the Kubernetes objects, selector matching and
 * address text conversion.
 */
#include "zones/objects.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static void free_labels(struct obj_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].key);
		free(l[i].value);
	}
	free(l);
}

static void free_ports(struct obj_port *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].target_name);
	}
	free(p);
}

void obj_service_free(struct obj_service *s)
{
	if (!s)
		return;
	free(s->ns);
	free(s->name);
	free(s->ips);
	free(s->external_name);
	free_ports(s->ports, s->nports);
	free_labels(s->selector, s->nselector);
	free(s);
}

void obj_slice_free(struct obj_slice *s)
{
	if (!s)
		return;
	free(s->ns);
	free(s->name);
	free(s->service);
	for (size_t i = 0; i < s->neps; i++) {
		free(s->eps[i].addrs);
		free(s->eps[i].hostname);
		free(s->eps[i].pod_name);
	}
	free(s->eps);
	free_ports(s->ports, s->nports);
	free(s);
}

void obj_namespace_free(struct obj_namespace *n)
{
	if (!n)
		return;
	free(n->name);
	free(n);
}

void obj_service_trim(struct obj_service *s)
{
	free_labels(s->selector, s->nselector);
	s->selector = NULL;
	s->nselector = 0;
	for (size_t i = 0; i < s->nports; i++) {
		free(s->ports[i].target_name);
		s->ports[i].target_name = NULL;
	}
}

void obj_pod_trim(struct obj_pod *p)
{
	free_labels(p->labels, p->nlabels);
	free_ports(p->ports, p->nports);
	free(p->hostname);
	free(p->subdomain);
	p->labels = NULL;
	p->nlabels = 0;
	p->ports = NULL;
	p->nports = 0;
	p->hostname = p->subdomain = NULL;
}

void obj_slice_trim(struct obj_slice *s, bool keep_pod_names)
{
	if (keep_pod_names)
		return;
	for (size_t i = 0; i < s->neps; i++) {
		free(s->eps[i].pod_name);
		s->eps[i].pod_name = NULL;
	}
}

void obj_pod_free(struct obj_pod *p)
{
	if (!p)
		return;
	free(p->ns);
	free(p->name);
	free(p->ips);
	free(p->hostname);
	free(p->subdomain);
	free_labels(p->labels, p->nlabels);
	free_ports(p->ports, p->nports);
	free(p);
}

bool obj_selects(const struct obj_service *s, const struct obj_pod *p)
{
	if (!s || !p || s->nselector == 0)
		return false;
	for (size_t i = 0; i < s->nselector; i++) {
		const struct obj_label *want = &s->selector[i];
		bool found = false;

		for (size_t j = 0; j < p->nlabels; j++) {
			if (strcmp(p->labels[j].key, want->key) == 0) {
				found = strcmp(p->labels[j].value,
					       want->value) == 0;
				break;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

const char *obj_addr_str(const struct obj_addr *a, char *buf, size_t len)
{
	int af;

	if (!a || !buf || len == 0)
		return NULL;
	if (a->family == 4)
		af = AF_INET;
	else if (a->family == 6)
		af = AF_INET6;
	else {
		buf[0] = '\0';
		return NULL;
	}
	if (!inet_ntop(af, a->a, buf, len)) {
		buf[0] = '\0';
		return NULL;
	}
	return buf;
}

int obj_addr_parse(const char *s, struct obj_addr *out)
{
	struct obj_addr a;

	if (!s || !out)
		return -1;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.a) == 1) {
		a.family = 4;
	} else if (inet_pton(AF_INET6, s, a.a) == 1) {
		a.family = 6;
	} else {
		return -1;
	}
	*out = a;
	return 0;
}
